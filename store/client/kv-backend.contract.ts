import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { EtcdError, type KvBackend } from './kv-backend.ts';

const code = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof EtcdError) return e.errorCode;
    throw e;
  }
  return 0;
};

/**
 * The behaviour every KvBackend must share (HTTP against berth, HTTP against etcd, memory).
 * `prefix` keeps runs apart on a shared store.
 */
export async function kvBackendContract(t: TestContext, kv: KvBackend, prefix: string): Promise<void> {
  await t.test('set, get, prevNode and errors', async () => {
    const a = await kv.set(`${prefix}/a`, '1');
    assert.equal(a.action, 'set');
    assert.equal(a.node?.value, '1');
    const b = await kv.set(`${prefix}/a`, '2');
    assert.equal(b.prevNode?.value, '1');
    assert.equal((await kv.get(`${prefix}/a`)).node?.value, '2');
    assert.equal(await code(kv.get(`${prefix}/missing`)), 100);
    assert.equal(await code(kv.set(`${prefix}/a`, 'x', { prevExist: false })), 105);
    assert.equal(await code(kv.set(`${prefix}/a`, 'x', { prevValue: 'nope' })), 101);
    assert.equal((await kv.set(`${prefix}/a`, '3', { prevValue: '2' })).action, 'compareAndSwap');
    assert.equal((await kv.set(`${prefix}/a`, '4', { prevIndex: (await kv.get(`${prefix}/a`)).node!.modifiedIndex })).node?.value, '4');
  });

  await t.test('directories, recursive sorted listing, in-order keys, deletes', async () => {
    await kv.set(`${prefix}/d`, '', { dir: true });
    await kv.set(`${prefix}/d/z`, '1');
    await kv.set(`${prefix}/d/a/b`, '2');
    const q1 = await kv.createInOrder(`${prefix}/q`, 'first');
    const q2 = await kv.createInOrder(`${prefix}/q`, 'second');
    assert.ok(q1.node!.key < q2.node!.key);
    const listing = await kv.get(`${prefix}/d`, { recursive: true, sorted: true });
    assert.deepEqual(listing.node?.nodes?.map((n) => n.key), [`${prefix}/d/a`, `${prefix}/d/z`]);
    assert.deepEqual(listing.node?.nodes?.[0]?.nodes?.map((n) => n.value), ['2']);
    assert.equal(await code(kv.delete(`${prefix}/d`, { dir: true })), 108);
    assert.equal((await kv.delete(`${prefix}/d`, { recursive: true })).action, 'delete');
    assert.equal(await code(kv.get(`${prefix}/d/z`)), 100);
    assert.equal(await code(kv.delete(`${prefix}/q/${q1.node!.key.split('/').pop()}`, { prevValue: 'wrong' })), 101);
  });

  await t.test('ttl, refresh and removing a ttl', async () => {
    const t1 = await kv.set(`${prefix}/t`, 'v', { ttl: 100 });
    assert.ok(t1.node!.ttl! > 90);
    const r = await kv.set(`${prefix}/t`, '', { ttl: 200, refresh: true, prevExist: true });
    assert.equal(r.node?.value, 'v');
    assert.ok(r.node!.ttl! > 190);
    const p = await kv.set(`${prefix}/t`, 'v', { ttl: null, prevExist: true });
    assert.equal(p.node?.ttl, undefined);
  });

  await t.test('watch from an index, recursively, and abort ends it', async () => {
    const start = await kv.set(`${prefix}/w/x`, 'one');
    await kv.set(`${prefix}/w/y`, 'two');
    const ac = new AbortController();
    const seen: string[] = [];
    const iter = (async () => {
      for await (const ev of kv.watch(`${prefix}/w`, { recursive: true, afterIndex: start.node!.modifiedIndex - 1, signal: ac.signal })) {
        seen.push(`${ev.action}:${ev.node?.key}=${ev.node?.value ?? ''}`);
        if (seen.length === 3) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await kv.set(`${prefix}/w/z`, 'three');
    await iter;
    assert.deepEqual(seen, [`set:${prefix}/w/x=one`, `set:${prefix}/w/y=two`, `set:${prefix}/w/z=three`]);
  });

  await t.test('a watch from an index no longer in history throws 401', async () => {
    for (let i = 0; i < 1040; i += 16) await Promise.all(Array.from({ length: 16 }, (_, j) => kv.set(`${prefix}/churn${j}`, String(i))));
    const now = (await kv.get(`${prefix}/churn0`)).etcdIndex;
    const it = kv.watch(`${prefix}/churn0`, { afterIndex: now - 1040 })[Symbol.asyncIterator]();
    assert.equal(await code(it.next()), 401);
  });
}
