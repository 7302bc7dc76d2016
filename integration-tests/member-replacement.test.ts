import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireDocker } from '../lib/testing/requirements.ts';
import { waitFor } from '../lib/testing/process.ts';
import { BerthCluster } from './berth-cluster.ts';
import { recordScenario } from './summary.ts';
import { TEST_CLUSTER_OPTIONS } from './test-options.ts';
import { keyspaceOf } from './verify.ts';

/** The leader keeps this many entries behind its snapshot (store/node CATCH_UP_ENTRIES); write past it so a newcomer needs the snapshot. */
const KEYS = 5300;
const WRITERS = 32;

async function writeKeys(cluster: BerthCluster, leader: number): Promise<Set<string>> {
  const acked = new Set<string>();
  let next = 0;
  const url = cluster.member(leader).clientUrl;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < KEYS) {
      const key = `k${next++}`;
      const res = await fetch(`${url}/v2/keys/fill/${key}`, { method: 'PUT', body: new URLSearchParams({ value: key }), signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status === 201) acked.add(key);
    }
  }));
  return acked;
}

async function keysOn(url: string): Promise<Set<string>> {
  const res = await fetch(`${url}/v2/keys/fill`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { node?: { nodes?: { key: string }[] } };
  return new Set((body.node?.nodes ?? []).map((n) => n.key.slice('/fill/'.length)));
}

test('member replacement: remove a dead member, add a fresh one; it catches up by snapshot and votes', { timeout: 240_000 }, async (t) => {
  if (!requireDocker(t)) return;
  const cluster = new BerthCluster(3, { ...TEST_CLUSTER_OPTIONS, logLevel: 'info', snapshotCount: 100 });
  t.after(() => cluster.stop());
  await cluster.start();
  const leader = await cluster.waitForLeader();

  const fillStarted = Date.now();
  const acked = await writeKeys(cluster, leader);
  const fillMs = Date.now() - fillStarted;
  console.log(`  ${acked.size} keys written in ${fillMs} ms (${Math.round((acked.size * 1000) / fillMs)} writes/s through the leader)`);
  assert.equal(acked.size, KEYS);

  const dead = [0, 1, 2].find((i) => i !== leader)!;
  await cluster.kill(dead);
  await cluster.removeMember(dead);
  const added = await cluster.addMember();
  const joinedAt = Date.now();
  const newcomer = cluster.member(added);
  await waitFor('the new member to hold every key', async () => (await keysOn(newcomer.clientUrl).catch(() => new Set<string>())).size === KEYS, 60_000, 200);
  const catchUpMs = Date.now() - joinedAt;
  const logs = await cluster.logs(added, 1000);
  const snapshotLine = logs.split('\n').find((l) => l.includes('applied a snapshot from the leader'));
  assert.ok(snapshotLine, `the new member caught up without a snapshot:\n${logs.slice(-3000)}`);
  const snapshotIndex = (JSON.parse(snapshotLine) as { index: number }).index;
  console.log(`  the new member applied a snapshot at index ${snapshotIndex} and held all ${KEYS} keys ${catchUpMs} ms after it started`);

  const members = cluster.members.filter((m) => !m.removed);
  await waitFor('every member to hold the same data', async () => new Set(await Promise.all(members.map((m) => keyspaceOf(m.clientUrl)))).size === 1, 30_000, 200);
  const onNewcomer = await keysOn(newcomer.clientUrl);
  const lost = [...acked].filter((k) => !onNewcomer.has(k));
  assert.deepEqual(lost, [], 'acknowledged keys missing on the new member');
  const res = await fetch(`${newcomer.clientUrl}/v2/members`);
  const names = ((await res.json()) as { members: { name: string }[] }).members.map((m) => m.name).sort();
  assert.deepEqual(names, members.map((m) => m.name).sort());

  // The newcomer votes: with one of the two old members killed, it and the other keep a majority.
  const other = members.find((m) => m.index !== added && m.index !== leader)!;
  await cluster.kill(leader);
  await cluster.waitForLeader(10_000);
  const write = await fetch(`${newcomer.clientUrl}/v2/keys/after-replacement`, { method: 'PUT', body: new URLSearchParams({ value: 'ok' }), signal: AbortSignal.timeout(10_000) });
  assert.equal(write.status, 201, `the cluster of ${other.name} and ${newcomer.name} accepts writes`);

  // Recorded once every check above held: the row's zeros are what the assertions proved.
  recordScenario({
    scenario: 'member replacement',
    seed: null,
    faults: [`kill ${cluster.member(dead).name}`, `remove ${cluster.member(dead).name}`, `add ${newcomer.name}`, `kill leader ${cluster.member(leader).name}`],
    operations: KEYS + 1,
    violations: 0,
    lostWrites: lost.length,
    notes: `snapshot-count 100; newcomer applied a snapshot at index ${snapshotIndex}, held all keys ${catchUpMs} ms after start; fill ${Math.round((acked.size * 1000) / fillMs)} writes/s`,
  });
});
