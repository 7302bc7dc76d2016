import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GiveUp, waitFor } from './process.ts';

test('waitFor retries a check that throws and names its last error on timeout', async () => {
  let calls = 0;
  await assert.rejects(
    waitFor('the thing', () => {
      calls++;
      throw new Error('not yet');
    }, 100, 10),
    /timed out after 100 ms waiting for the thing: Error: not yet/,
  );
  assert.ok(calls > 2, `${calls} checks in 100 ms`);
});

test('waitFor ends at once on GiveUp, with that error', async () => {
  let calls = 0;
  const started = Date.now();
  await assert.rejects(
    waitFor('the thing', () => {
      if (++calls === 2) throw new GiveUp('the process exited');
      return false;
    }, 10_000, 10),
    (e: unknown) => e instanceof GiveUp && e.message === 'the process exited',
  );
  assert.equal(calls, 2);
  assert.ok(Date.now() - started < 1000);
});
