import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCluster } from '../../lib/testing/store-cluster.ts';

const SNAPSHOT_COUNT = 2000;
const VALUE = 'v'.repeat(24 * 1024);

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  assert.ok(m, `${name} is on /metrics`);
  return Number(m[1]);
}

/** Waits for `n` snapshot files, watched on disk: each read of /metrics would reset the lag. */
async function snapshotFiles(dataDir: string, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await readdir(join(dataDir, 'snap')).catch(() => [])).filter((f) => f.endsWith('.snap')).length < n) {
    assert.ok(Date.now() < deadline, `${n} snapshots were saved within 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function putKeys(url: string, from: number, to: number): Promise<void> {
  let next = from;
  const writer = async () => {
    while (next < to) {
      const res = await fetch(`${url}/v2/keys/big/k${next++}`, { method: 'PUT', body: new URLSearchParams({ value: VALUE }) });
      await res.arrayBuffer();
      assert.ok(res.status < 300, `PUT: HTTP ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, writer));
}

// Packing the whole state at once held the event loop for as long as the keyspace took to pack
// (1-2 s at 1,000,000 keys): no heartbeats, reads or answers meanwhile. Now applies are held and
// the state is written in slices of ~5 ms between the loop's other work.
test('a member writes a snapshot of a large keyspace without holding its event loop', { timeout: 120_000 }, async (t) => {
  const cluster = await startCluster('berth', 1, { snapshotCount: SNAPSHOT_COUNT });
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  // ~48 MB of keys, plus the history's 1,000 events, just short of the first snapshot.
  await putKeys(url, 0, SNAPSHOT_COUNT - 50);
  // Reading the lag resets it: what is read next is the worst since here.
  await metric(url, 'nodejs_eventloop_lag_max_seconds');
  await putKeys(url, SNAPSHOT_COUNT - 50, SNAPSHOT_COUNT + 50);
  await snapshotFiles(cluster.members[0]!.dataDir, 1);
  const lagMax = await metric(url, 'nodejs_eventloop_lag_max_seconds');
  // The file is in place a moment before the member counts the snapshot saved.
  while ((await metric(url, 'etcd_debugging_snap_save_total_duration_seconds_count')) === 0) await new Promise((r) => setTimeout(r, 20));
  const seconds = await metric(url, 'etcd_debugging_snap_save_total_duration_seconds_sum');
  console.log(`snapshot of ${SNAPSHOT_COUNT} keys of 24 KiB: saved in ${(seconds * 1000).toFixed(0)} ms, the event loop held at most ${(lagMax * 1000).toFixed(0)} ms at once`);
  assert.ok(lagMax < 0.1, `the event loop was held ${(lagMax * 1000).toFixed(0)} ms at once`);
  // And the snapshot is good: the member restarts from it with every key.
  await cluster.kill(cluster.members[0]!.name, 'SIGTERM');
  await cluster.restart(cluster.members[0]!.name);
  const res = await fetch(`${url}/v2/keys/big/k${SNAPSHOT_COUNT - 100}`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { node: { value: string } }).node.value, VALUE);
});
