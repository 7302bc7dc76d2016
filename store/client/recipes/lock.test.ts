import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKvBackend } from '../memory-backend.ts';
import { Lock } from './lock.ts';
import { LeaseLostError, RecipeAbortedError } from './errors.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Lock: mutual exclusion, FIFO order and increasing fencing tokens', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  let inside = 0;
  const order: number[] = [];
  const tokens: number[] = [];
  // Each contender enqueues before the next starts, so FIFO fixes the order 0..4.
  const runs: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) {
    const lock = new Lock(kv, '/locks/a', { ttlSeconds: 5, value: `c${i}` });
    runs.push(lock.withLock(async (held) => {
      inside++;
      assert.equal(inside, 1, 'two holders at once');
      order.push(i);
      tokens.push(held.token);
      assert.ok(held.valid);
      await sleep(20);
      inside--;
    }));
    await sleep(5);
  }
  await Promise.all(runs);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.deepEqual(tokens, [...tokens].sort((a, b) => a - b));
  assert.equal(new Set(tokens).size, 5);
  assert.equal((await kv.get('/locks/a')).node!.nodes?.length ?? 0, 0, 'every key released');
});

test('Lock: a holder that stops refreshing loses the lock after its TTL and the next proceeds', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  // A "dead" holder: a key in line that nobody refreshes.
  const dead = await kv.createInOrder('/locks/b', 'dead', { ttl: 1 });
  const started = Date.now();
  const held = await new Lock(kv, '/locks/b', { ttlSeconds: 5 }).acquire();
  const waitedMs = Date.now() - started;
  assert.ok(held.token > dead.node!.createdIndex);
  assert.ok(waitedMs >= 800 && waitedMs < 2500, `waited ${waitedMs} ms for a 1 s TTL`);
  await held.release();
});

test('Lock: the holder is told when its key disappears, and the lock refreshes past its TTL', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  const held = await new Lock(kv, '/locks/c', { ttlSeconds: 1 }).acquire();
  await sleep(1600);
  assert.ok(held.valid, 'refreshed past one TTL');
  assert.ok((await kv.get(held.key)).node);
  await kv.delete(held.key);
  await new Promise<void>((resolve) => (held.signal.aborted ? resolve() : held.signal.addEventListener('abort', () => resolve())));
  assert.ok(held.signal.reason instanceof LeaseLostError);
  assert.equal(held.valid, false);
  await held.release();
});

test('Lock: aborting a wait leaves the line', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  const first = await new Lock(kv, '/locks/d', { ttlSeconds: 5 }).acquire();
  const ac = new AbortController();
  const waiting = new Lock(kv, '/locks/d', { ttlSeconds: 5 }).acquire({ signal: ac.signal });
  await sleep(50);
  ac.abort();
  await assert.rejects(waiting, RecipeAbortedError);
  const line = (await kv.get('/locks/d')).node!.nodes ?? [];
  assert.deepEqual(line.map((n) => n.key), [first.key]);
  await first.release();
});
