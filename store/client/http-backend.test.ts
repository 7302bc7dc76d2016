import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../lib/testing/requirements.ts';
import { HttpKvBackend } from './http-backend.ts';
import { kvBackendContract } from './kv-backend.contract.ts';

test('HttpKvBackend meets the KvBackend contract against real etcd 3.4', { timeout: 120_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const etcd = await startCluster('etcd', 1);
  t.after(() => etcd.stop());
  const kv = new HttpKvBackend({ endpoints: etcd.clientUrls });
  t.after(() => kv.close());
  await kvBackendContract(t, kv, '/contract');
});

test('HttpKvBackend meets the KvBackend contract against berth', { timeout: 120_000 }, async (t) => {
  const berth = await startCluster('berth', 1);
  t.after(() => berth.stop());
  const kv = new HttpKvBackend({ endpoints: berth.clientUrls });
  t.after(() => kv.close());
  await kvBackendContract(t, kv, '/contract');
});

test('fails over to a live endpoint, and a watch misses nothing across a member restart', { timeout: 120_000 }, async (t) => {
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  // A write that times out in flight is never resent (it may have been applied), so the timeout
  // must outlast the election that follows killing the leader; 2 s was too short on a busy machine.
  const kv = new HttpKvBackend({ endpoints: cluster.clientUrls, timeoutMs: 10_000 });
  t.after(() => kv.close());
  const first = await kv.set('/fo/k', '0');
  const seen: string[] = [];
  const ac = new AbortController();
  const watching = (async () => {
    for await (const ev of kv.watch('/fo', { recursive: true, afterIndex: first.node!.modifiedIndex, signal: ac.signal })) {
      seen.push(ev.node!.value!);
      if (seen.length === 20) ac.abort();
    }
  })();
  for (let i = 1; i <= 20; i++) {
    if (i === 8) {
      // The next write may reach a follower that still forwards to the dead leader: the store
      // sends it again under the new leader, so the client sees an answer, not a timeout.
      await cluster.kill(cluster.members[0]!.name, 'SIGKILL');
    }
    if (i === 14) await cluster.restart(cluster.members[0]!.name);
    await kv.set('/fo/k', String(i));
  }
  await watching;
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => String(i + 1)));
});
