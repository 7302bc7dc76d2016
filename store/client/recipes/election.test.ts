import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKvBackend } from '../memory-backend.ts';
import type { KvBackend, SetOpts } from '../kv-backend.ts';
import { Election, type LeaderInfo } from './election.ts';
import { LeaseLostError } from './errors.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const aborted = (s: AbortSignal) => new Promise<void>((r) => (s.aborted ? r() : s.addEventListener('abort', () => r())));

test('Election: one leader, the next wins on resign with a larger token, observers see each term', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  const election = new Election(kv, '/election/e1', { ttlSeconds: 5 });
  const seen: (LeaderInfo | null)[] = [];
  const ac = new AbortController();
  const observing = (async () => {
    for await (const l of election.observe({ signal: ac.signal })) seen.push(l);
  })();
  await sleep(20);
  const a = await election.campaign('a');
  let bWon = false;
  const b = election.campaign('b').then((l) => ((bWon = true), l));
  await sleep(100);
  assert.equal(bWon, false, 'two leaders at once');
  assert.deepEqual(await election.leader(), { value: 'a', token: a.token });
  await a.resign();
  const lb = await b;
  assert.ok(lb.token > a.token);
  assert.equal(a.valid, false);
  await sleep(50);
  ac.abort();
  await observing;
  assert.deepEqual(seen.filter(Boolean), [{ value: 'a', token: a.token }, { value: 'b', token: lb.token }]);
  await lb.resign();
});

/** A backend whose writes fail while `down` is set, as a leader cut off from its store would see. */
function flaky(kv: KvBackend): KvBackend & { down: boolean } {
  const wrapper = Object.create(kv) as KvBackend & { down: boolean };
  wrapper.down = false;
  wrapper.set = (key: string, value: string, opts?: SetOpts) => (wrapper.down ? Promise.reject(new Error('connect ECONNREFUSED')) : kv.set(key, value, opts));
  wrapper.get = kv.get.bind(kv);
  wrapper.watch = kv.watch.bind(kv);
  wrapper.delete = kv.delete.bind(kv);
  return wrapper;
}

test('Election: a leader that cannot refresh is told before the store gives the office away', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  const cutOff = flaky(kv);
  const leader = await new Election(cutOff, '/election/e2', { ttlSeconds: 1 }).campaign('old');
  let lostAt = 0;
  leader.signal.addEventListener('abort', () => (lostAt = Date.now()));
  cutOff.down = true;
  const successor = await new Election(kv, '/election/e2', { ttlSeconds: 1 }).campaign('new');
  const wonAt = Date.now();
  assert.ok(lostAt > 0 && lostAt <= wonAt, `lost at ${lostAt}, successor won at ${wonAt}`);
  assert.ok(leader.signal.reason instanceof LeaseLostError);
  assert.ok(successor.token > leader.token);
  await successor.resign();
});

test('Election: deleting the key ends the term; resign does not remove a successor', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  const election = new Election(kv, '/election/e3', { ttlSeconds: 5 });
  const first = await election.campaign('a');
  await kv.delete('/election/e3');
  await aborted(first.signal);
  const second = await election.campaign('b');
  await first.resign();
  assert.deepEqual(await election.leader(), { value: 'b', token: second.token });
  await second.resign();
  assert.equal(await election.leader(), null);
});

test('Election: a leader paused past its TTL finds its lease invalid, and the fenced resource refuses its token', async (t) => {
  const { FencedResource } = await import('./testing/fenced-resource.ts');
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  const resource = new FencedResource();
  await resource.start();
  t.after(() => resource.stop());
  const act = (l: { token: number; validUntilMs: number }, who: string) => fetch(`${resource.url}/act?token=${l.token}&who=${who}&until=${l.validUntilMs}`, { method: 'POST' }).then((r) => r.status);
  const paused = flaky(kv);
  const old = await new Election(paused, '/election/e4', { ttlSeconds: 1 }).campaign('old');
  assert.equal(await act(old, 'old'), 200);
  paused.down = true; // as if SIGSTOPped: no refresh reaches the store
  const successor = await new Election(kv, '/election/e4', { ttlSeconds: 1 }).campaign('new');
  assert.equal(old.valid, false);
  assert.equal(await act(successor, 'new'), 200);
  // The old leader acting anyway (it checked `valid` just before the pause) is refused twice over.
  assert.equal(await act(old, 'old'), 409);
  assert.deepEqual(resource.attempts.map((a) => [a.who, a.accepted, a.why]), [['old', true, undefined], ['new', true, undefined], ['old', false, 'stale-token']]);
  await successor.resign();
});
