import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import type { Operation } from './history.ts';
import { checkLinearizable } from './linearizability.ts';

const w = (client: number, value: string, call: number, ret: number): Operation => ({ client, key: 'k', kind: 'write', value, call, ret });
const r = (client: number, value: string | null, call: number, ret: number): Operation => ({ client, key: 'k', kind: 'read', call, ret, output: { value } });
const cas = (client: number, expected: string, value: string, ok: boolean, call: number, ret: number): Operation => ({ client, key: 'k', kind: 'cas', expected, value, call, ret, output: { ok } });

test('sequential and overlapping histories that some order explains pass', () => {
  assert.ok(checkLinearizable([w(1, 'a', 0, 1), r(2, 'a', 2, 3)]).ok);
  // The read overlaps the write: it may see either value.
  assert.ok(checkLinearizable([w(1, 'a', 0, 10), r(2, null, 1, 2), r(3, 'a', 3, 4)]).ok);
  assert.ok(checkLinearizable([w(1, 'a', 0, 1), cas(2, 'a', 'b', true, 2, 5), cas(3, 'a', 'c', false, 3, 6), r(1, 'b', 7, 8)]).ok);
  // A write whose answer never came may or may not have happened.
  assert.ok(checkLinearizable([w(1, 'a', 0, 1), w(2, 'lost?', 2, Infinity), r(3, 'a', 5, 6)]).ok);
  assert.ok(checkLinearizable([w(1, 'a', 0, 1), w(2, 'lost?', 2, Infinity), r(3, 'lost?', 5, 6)]).ok);
});

test('a stale read is caught, with the window that shows it', () => {
  const res = checkLinearizable([w(1, 'a', 0, 1), w(1, 'b', 2, 3), r(2, 'a', 4, 5)]);
  assert.equal(res.ok, false);
  assert.equal(res.violation?.key, 'k');
  assert.match(res.violation!.explanation, /client 2 read k -> "a"/);
});

test('a lost acknowledged write is caught', () => {
  assert.equal(checkLinearizable([w(1, 'a', 0, 1), w(2, 'b', 2, 3), r(3, 'a', 4, 5), r(3, 'b', 6, 7)]).ok, false);
});

test('two successful CAS from the same value are caught', () => {
  assert.equal(checkLinearizable([w(1, 'a', 0, 1), cas(2, 'a', 'b', true, 2, 4), cas(3, 'a', 'c', true, 2, 4)]).ok, false);
});

test('random histories from a sequential register pass; corrupted ones fail (seeded)', () => {
  const seed = seedFromEnv();
  console.log(`linearizability random-history seed ${seed}`);
  const rand = new Rand(seed);
  let caught = 0;
  for (let round = 0; round < 200; round++) {
    const ops: Operation[] = [];
    const state = new Map<string, string | null>();
    let t = 0;
    // A sequential execution where each op takes effect at a point inside a random interval.
    for (let i = 0; i < 40; i++) {
      const key = `k${rand.int(3)}`;
      const client = rand.int(5);
      const at = (t += 1 + rand.int(3));
      const call = at - rand.int(4);
      const ret = at + rand.int(4);
      const cur = state.get(key) ?? null;
      const kind = rand.pick(['read', 'write', 'cas'] as const);
      if (kind === 'write') {
        const v = `v${i}`;
        state.set(key, v);
        ops.push({ client, key, kind, value: v, call, ret });
      } else if (kind === 'read') {
        ops.push({ client, key, kind, call, ret, output: { value: cur } });
      } else {
        const expected = rand.chance(0.5) && cur !== null ? cur : `v${rand.int(40)}`;
        const ok = cur === expected;
        if (ok) state.set(key, `c${i}`);
        ops.push({ client, key, kind, expected, value: `c${i}`, call, ret, output: { ok } });
      }
    }
    assert.ok(checkLinearizable(ops).ok, `round ${round} of seed ${seed} should be linearizable`);
    // Corrupt one read to a value that was never written: always a violation.
    const reads = ops.filter((o) => o.kind === 'read');
    if (reads.length > 0) {
      rand.pick(reads).output = { value: 'never-written' };
      assert.equal(checkLinearizable(ops).ok, false);
      caught++;
    }
  }
  assert.ok(caught > 100);
});

test('a 3-key history of 2,000 concurrent operations checks quickly', () => {
  const rand = new Rand(42);
  const ops: Operation[] = [];
  const state = new Map<string, string>();
  for (let i = 0; i < 2000; i++) {
    const key = `k${i % 3}`;
    const at = i * 2;
    const call = at - rand.int(6);
    const ret = at + rand.int(6);
    if (rand.chance(0.5)) {
      state.set(key, `v${i}`);
      ops.push({ client: i % 8, key, kind: 'write', value: `v${i}`, call, ret });
    } else ops.push({ client: i % 8, key, kind: 'read', call, ret, output: { value: state.get(key) ?? null } });
  }
  const started = performance.now();
  assert.ok(checkLinearizable(ops).ok);
  console.log(`checked 2,000 operations in ${(performance.now() - started).toFixed(0)} ms`);
});
