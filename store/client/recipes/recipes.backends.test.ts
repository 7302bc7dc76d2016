import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type StoreKind } from '../../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../../lib/testing/requirements.ts';
import { HttpKvBackend } from '../http-backend.ts';
import { Config, Election, LeaseLostError, Lock } from './index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The recipes rely on v2 details (in-order keys, refresh with prevIndex, prevExist=false,
// expire events); the same scenarios run against real etcd and berth over HTTP.
for (const kind of ['etcd', 'berth'] as StoreKind[]) {
  test(`recipes over HTTP against ${kind}: FIFO lock, election handover and loss, config changes`, { timeout: 90_000 }, async (t) => {
    if (kind === 'etcd' && !requireEtcd(t)) return;
    const store = await startCluster(kind, 1);
    t.after(() => store.stop());
    const kv = new HttpKvBackend({ endpoints: store.clientUrls });
    t.after(() => kv.close());

    const order: number[] = [];
    const tokens: number[] = [];
    const runs = [0, 1, 2].map(async (i) => {
      await sleep(i * 150);
      await new Lock(kv, '/b/lock', { ttlSeconds: 2 }).withLock(async (held) => {
        order.push(i);
        tokens.push(held.token);
        await sleep(300);
      });
    });
    await Promise.all(runs);
    assert.deepEqual(order, [0, 1, 2]);
    assert.ok(tokens[0]! < tokens[1]! && tokens[1]! < tokens[2]!);

    const election = new Election(kv, '/b/leader', { ttlSeconds: 1 });
    const a = await election.campaign('a');
    const b = election.campaign('b');
    await sleep(1500);
    assert.ok(a.valid, 'the keepalive kept the office past its TTL');
    await a.resign();
    const lb = await b;
    assert.ok(lb.token > a.token);
    await kv.delete('/b/leader');
    await new Promise<void>((r) => (lb.signal.aborted ? r() : lb.signal.addEventListener('abort', () => r())));
    assert.ok(lb.signal.reason instanceof LeaseLostError);

    await kv.set('/b/cfg/x', '1');
    const cfg = await Config.load(kv, '/b/cfg');
    t.after(() => cfg.close());
    const seen: string[] = [];
    cfg.onChange((c) => seen.push(`${c.action} ${c.key} ${c.value ?? ''}`));
    await kv.set('/b/cfg/y/z', '2', { ttl: 1 });
    await kv.set('/b/cfg/x', '3');
    await sleep(2600); // y/z expires (the expire event counts as a delete)
    assert.deepEqual(seen, ['set y/z 2', 'set x 3', 'delete y/z ']);
    assert.deepEqual(cfg.current, { x: '3', y: {} });
  });
}
