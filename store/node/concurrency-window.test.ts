import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyWindow } from './concurrency-window.ts';

test('one request at a time is never concurrent', () => {
  let now = 0;
  const w = new ConcurrencyWindow(100, () => now);
  for (let i = 0; i < 50; i++, now += 7) assert.equal(w.observe(i % 2), false);
});

test('overlapping requests open the window, which stays open for its length and then closes', () => {
  let now = 1_000;
  const w = new ConcurrencyWindow(100, () => now);
  assert.equal(w.observe(3), true);
  now += 60;
  assert.equal(w.observe(1), true, 'a lone request inside the window keeps the mode');
  now += 39;
  assert.equal(w.observe(0), true);
  now += 1;
  assert.equal(w.observe(1), false, '100 ms after the last overlap the window has closed');
  assert.equal(w.observe(2), true, 'and the next overlap opens it again');
});
