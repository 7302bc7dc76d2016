import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from './rand.ts';

test('the same seed gives the same sequence', () => {
  const a = new Rand(42);
  const b = new Rand(42);
  for (let i = 0; i < 1000; i++) assert.equal(a.nextUint32(), b.nextUint32());
  assert.notEqual(new Rand(1).nextUint32(), new Rand(2).nextUint32());
});

test('int and range stay within bounds and cover them', () => {
  const r = new Rand(7);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const v = r.range(3, 9);
    assert.ok(v >= 3 && v <= 9);
    seen.add(v);
  }
  assert.equal(seen.size, 7);
});

test('seedFromEnv reads SEED and rejects garbage', () => {
  assert.equal(seedFromEnv({ SEED: '123' }), 123);
  assert.throws(() => seedFromEnv({ SEED: '-1' }), /SEED/);
  assert.equal(typeof seedFromEnv({}), 'number');
});
