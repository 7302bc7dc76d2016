import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { waitFor } from '../../lib/testing/process.ts';
import { HistoryRecorder } from '../check/history.ts';
import { checkLinearizable } from '../check/linearizability.ts';
import { RelayedCluster, type RelayedMember } from './relayed-cluster.ts';
import { KEYS, runClients } from './workload.ts';

const SCHEDULES = Number(process.env.NEMESIS_SCHEDULES ?? 20);
const base = seedFromEnv();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Fault = 'kill-leader' | 'pause' | 'partition-minority' | 'isolate-leader' | 'restart';

async function inject(cluster: RelayedCluster, rand: Rand, fault: Fault): Promise<() => Promise<void>> {
  const live = cluster.members.filter((m) => m.alive && !m.paused);
  const leader = await cluster.leader(5000).catch(() => rand.pick(live));
  switch (fault) {
    case 'kill-leader':
      await cluster.kill(leader);
      return () => cluster.restart(leader);
    case 'pause': {
      const m = rand.pick(live);
      cluster.pause(m);
      return async () => cluster.resume(m);
    }
    case 'partition-minority': {
      const shuffled = rand.shuffle([...cluster.members]);
      const minority = shuffled.slice(0, Math.floor(cluster.members.length / 2));
      cluster.partition(minority, shuffled.slice(minority.length));
      return async () => cluster.heal();
    }
    case 'isolate-leader':
      cluster.partition([leader], cluster.members.filter((m) => m !== leader));
      return async () => cluster.heal();
    case 'restart': {
      const m = rand.pick(live);
      await cluster.kill(m);
      await cluster.restart(m);
      return async () => {};
    }
  }
}

async function valuesOn(m: RelayedMember): Promise<string> {
  const res = await fetch(`${m.clientUrl}/v2/keys/lin?recursive=true&sorted=true`);
  const body = (await res.json()) as { node?: { nodes?: { key: string; value: string; modifiedIndex: number }[] } };
  return JSON.stringify((body.node?.nodes ?? []).map((n) => [n.key, n.value, n.modifiedIndex]));
}

for (let s = 0; s < SCHEDULES; s++) {
  const seed = (base + s) >>> 0;
  const size = s % 4 === 3 ? 5 : 3;
  test(`nemesis schedule ${s + 1}/${SCHEDULES} on ${size} nodes is linearizable and loses nothing (seed ${seed})`, { timeout: 120_000 }, async (t) => {
    console.log(`nemesis seed ${seed}; rerun: SEED=${seed} NEMESIS_SCHEDULES=1 npm test -- store/cluster-tests`);
    const rand = new Rand(seed);
    const cluster = await RelayedCluster.start(size);
    const stop = { done: false };
    // Stop the clients too when the test fails midway: their loop would keep the file alive.
    t.after(async () => {
      stop.done = true;
      await cluster.stop();
    });
    const history = new HistoryRecorder();
    const load = runClients(cluster, history, rand.fork(), 6, stop);
    const faults: Fault[] = [];
    for (let round = 0; round < 2; round++) {
      await sleep(300 + rand.int(500));
      const fault = rand.pick<Fault>(['kill-leader', 'pause', 'partition-minority', 'isolate-leader', 'restart']);
      faults.push(fault);
      const undo = await inject(cluster, rand, fault);
      await sleep(800 + rand.int(1200));
      await undo();
    }
    // Heal everything, let the cluster settle, then stop the clients.
    cluster.heal();
    for (const m of cluster.members) if (m.paused) cluster.resume(m);
    for (const m of cluster.members) if (!m.alive) await cluster.restart(m);
    const healedAt = Date.now();
    await cluster.leader(10_000);
    const recovery = Date.now() - healedAt;
    await sleep(500);
    stop.done = true;
    const { acked } = await load;

    // Final reads of every key on every member join the history: an acknowledged write that
    // went missing anywhere makes it non-linearizable.
    for (const m of cluster.members) {
      for (const key of KEYS) {
        const op = history.invoke({ client: 1000, key, kind: 'read' });
        const res = await fetch(`${m.clientUrl}/v2/keys${key}?quorum=true`);
        const body = (await res.json()) as { node?: { value?: string } };
        history.complete(op, { value: res.status === 200 ? (body.node?.value ?? null) : null });
      }
    }
    const result = checkLinearizable(history.ops);
    console.log(`  faults: ${faults.join(', ')}; ${history.ops.length} operations (${acked} acknowledged writes), leader ${recovery} ms after healing`);
    assert.ok(result.ok, result.violation?.explanation);
    assert.ok(acked > 0, 'no write was acknowledged: the schedule proved nothing');
    assert.ok(recovery <= 3000, `no leader within 3 s of healing (${recovery} ms)`);
    // Every member converges on the same keys, values and indexes.
    await waitFor('all members to hold the same data', async () => new Set(await Promise.all(cluster.members.map(valuesOn))).size === 1, 15_000);
  });
}
