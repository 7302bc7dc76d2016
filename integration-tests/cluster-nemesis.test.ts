import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../lib/rand.ts';
import { requireDocker } from '../lib/testing/requirements.ts';
import { HistoryRecorder } from '../store/check/history.ts';
import { runClients } from '../store/cluster-tests/workload.ts';
import { startAckedWriters } from './acked-writes.ts';
import { BerthCluster } from './berth-cluster.ts';
import { FAULT_KINDS, runRound, type RoundResult } from './nemesis.ts';
import { recordScenario } from './summary.ts';
import { TEST_CLUSTER_OPTIONS } from './test-options.ts';
import { verifyRun } from './verify.ts';

/** Schedules per cluster size (each injects every fault kind once, in a seeded order). */
const SCHEDULES = Number(process.env.INTEGRATION_SCHEDULES ?? 1);
const RECOVERY_LIMIT_MS = 3000;
const base = seedFromEnv();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeRound(r: RoundResult): string {
  const failover = r.failoverMs === null ? '' : `, new leader after ${r.failoverMs} ms`;
  return `${r.fault.description}: ${r.ackedDuringFault} writes acked during the fault${failover}; healed in ${r.healMs} ms, leader ${r.recoveryMs} ms after healing`;
}

const plans = [3, 5].flatMap((size) => Array.from({ length: SCHEDULES }, (_, s) => ({ size, s })));

for (const [i, { size, s }] of plans.entries()) {
  const seed = (base + i) >>> 0;
  const name = `${size}-node cluster in containers under the nemesis${SCHEDULES > 1 ? ` (schedule ${s + 1})` : ''}`;
  test(`${name}: linearizable, no acknowledged write lost, a leader within 3 s of every heal (seed ${seed})`, { timeout: 300_000 }, async (t) => {
    if (!requireDocker(t)) return;
    console.log(`integration nemesis seed ${seed}; rerun: SEED=${base} npm test -- integration-tests/cluster-nemesis.test.ts`);
    const rand = new Rand(seed);
    const cluster = new BerthCluster(size, { ...TEST_CLUSTER_OPTIONS, heartbeatMs: 100, electionMs: 1000 });
    t.after(() => cluster.stop());
    await cluster.start();

    const history = new HistoryRecorder();
    const stop = { done: false };
    const load = runClients(cluster, history, rand.fork(), 5, stop);
    const writers = startAckedWriters(cluster, rand.fork(), 2, stop);
    const rounds: RoundResult[] = [];
    try {
      for (const kind of rand.shuffle([...FAULT_KINDS])) {
        await sleep(500 + rand.int(1000));
        const round = await runRound(cluster, rand, kind, 3000 + rand.int(1000), () => writers.writes.acked.size);
        console.log(`  ${describeRound(round)}`);
        rounds.push(round);
      }
      await sleep(1000);
    } finally {
      stop.done = true;
      await Promise.all([load, writers.finished]);
    }

    const verdict = await verifyRun(cluster, history, writers.writes);
    const recoveries = rounds.map((r) => r.recoveryMs);
    const failovers = rounds.flatMap((r) => (r.failoverMs === null ? [] : [r.failoverMs]));
    const operations = history.ops.length + writers.writes.attempts;
    recordScenario({
      scenario: `${size}-node nemesis${SCHEDULES > 1 ? ` #${s + 1}` : ''}`,
      seed,
      faults: rounds.map((r) => r.fault.description),
      operations,
      violations: (verdict.linearizability.ok ? 0 : 1) + verdict.phantomWrites,
      lostWrites: verdict.lostWrites,
      notes: `${writers.writes.acked.size} acked creates; leader after heal max ${Math.max(...recoveries)} ms; failover ${failovers.join('/')} ms`,
    });
    console.log(`  ${operations} operations (${history.ops.length} checked for linearizability, ${writers.writes.acked.size} acknowledged creates); leader after heal: max ${Math.max(...recoveries)} ms`);

    assert.deepEqual(verdict.problems, []);
    assert.ok(writers.writes.acked.size > 0, 'no write was acknowledged: the run proved nothing');
    for (const r of rounds) assert.ok(r.recoveryMs <= RECOVERY_LIMIT_MS, `no leader within 3 s of healing ${r.fault.description} (${r.recoveryMs} ms)`);
    for (const r of rounds) if (r.fault.kind.endsWith('leader')) assert.notEqual(r.failoverMs, null, `nobody took over within 10 s of ${r.fault.description}`);
  });
}
