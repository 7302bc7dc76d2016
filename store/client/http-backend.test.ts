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

test('watches waiting on a frozen member move to another one, found by one /version probe for all of them', { timeout: 120_000 }, async (t) => {
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  const frozen = cluster.members[0]!;
  const probes: string[] = [];
  const frozenUrl = cluster.clientUrls[0]!.replace(/\/$/, '');
  const kv = new HttpKvBackend({ endpoints: cluster.clientUrls, timeoutMs: 1000, onRequest: (_m, url) => url.startsWith(`${frozenUrl}/version`) && probes.push(url) });
  t.after(() => kv.close());
  const writer = new HttpKvBackend({ endpoints: cluster.clientUrls.slice(1), timeoutMs: 10_000 });
  t.after(() => writer.close());
  const start = await writer.set('/frozen/start', '0');
  const WATCHES = 10;
  const ac = new AbortController();
  t.after(() => ac.abort());
  const firstEvents = Array.from({ length: WATCHES }, async (_, i) => {
    for await (const ev of kv.watch(`/frozen/k${i}`, { afterIndex: start.node!.modifiedIndex, signal: ac.signal })) return ev.node!.value!;
    return null;
  });
  await new Promise((r) => setTimeout(r, 300)); // the polls are waiting on the first member
  process.kill(frozen.process.pid, 'SIGSTOP');
  const frozenAt = Date.now();
  try {
    for (let i = 0; i < WATCHES; i++) await writer.set(`/frozen/k${i}`, `v${i}`);
    assert.deepEqual(await Promise.all(firstEvents), Array.from({ length: WATCHES }, (_, i) => `v${i}`));
  } finally {
    process.kill(frozen.process.pid, 'SIGCONT');
  }
  const tookMs = Date.now() - frozenAt;
  console.log(`${WATCHES} watches left the frozen member after ${tookMs} ms; ${probes.length} /version probes reached it`);
  assert.ok(probes.length <= 3, `${probes.length} probes for ${WATCHES} waiting watches: there should be one per member, not one per watch`);
});
