import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianRun } from './load.ts';
import type { Measurement } from './types.ts';

const run = (value: number, extra: Partial<Measurement> = {}): Measurement => ({ value, unit: 'req/s', p50Ms: value / 1000, p99Ms: value / 100, ...extra });

test('medianRun reports the middle run whole, and every run in its note', () => {
  const m = medianRun([run(900), run(1200), run(1000)]);
  assert.equal(m.value, 1000);
  assert.equal(m.p50Ms, 1, 'the latencies are those of the same run');
  assert.equal(m.note, 'median of 3: 900, 1200, 1000 req/s');
});

test('medianRun counts errors over all runs and keeps the first error', () => {
  const m = medianRun([run(900, { errors: 2, note: 'ECONNRESET' }), run(1000), run(1100, { errors: 1, note: 'HTTP 500' })]);
  assert.equal(m.value, 1000);
  assert.equal(m.errors, 3);
  assert.equal(m.note, 'median of 3: 900, 1000, 1100 req/s; ECONNRESET');
});

test('medianRun of one run is that run', () => {
  const only = run(700, { errors: 1, note: 'timeout' });
  assert.deepEqual(medianRun([only]), only);
});
