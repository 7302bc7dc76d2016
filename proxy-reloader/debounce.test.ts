import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from './clock.ts';
import { Debouncer } from './debounce.ts';
import { parseDurationMs, parseWait } from './duration.ts';

test('a burst of 50 changes 10 ms apart fires once, after the quiet period', () => {
  const clock = new FakeClock();
  let fired = 0;
  const d = new Debouncer({ minMs: 100, maxMs: 5000 }, clock, () => fired++);
  for (let i = 0; i < 50; i++) {
    d.poke();
    clock.advance(10);
  }
  assert.equal(fired, 0);
  clock.advance(89);
  assert.equal(fired, 0);
  clock.advance(1);
  assert.equal(fired, 1);
  clock.advance(10_000);
  assert.equal(fired, 1);
});

test('a change stream that never pauses still fires at max', () => {
  const clock = new FakeClock();
  const at: number[] = [];
  const d = new Debouncer({ minMs: 100, maxMs: 1000 }, clock, () => at.push(clock.now()));
  for (let i = 0; i < 300; i++) {
    d.poke();
    clock.advance(50);
  }
  assert.deepEqual(at.slice(0, 3), [1000, 2000, 3000]);
});

test('durations and --wait parse like consul-template', () => {
  assert.equal(parseDurationMs('250ms', 'x'), 250);
  assert.equal(parseDurationMs('1.5s', 'x'), 1500);
  assert.equal(parseDurationMs('2m', 'x'), 120_000);
  assert.deepEqual(parseWait('200ms:2s'), { minMs: 200, maxMs: 2000 });
  assert.deepEqual(parseWait('1s'), { minMs: 1000, maxMs: 4000 });
  assert.throws(() => parseWait('2s:1s'), /must not be below/);
  assert.throws(() => parseDurationMs('soon', '--wait'), /--wait: expected a duration/);
});
