import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../lib/log.ts';
import { ExpirySyncer } from './expiry-syncer.ts';

/** A keyspace of deadlines that a sync at `nowMs` expires, driven by mocked timers. */
function harness(t: TestContext, deadlines: number[], leader = true) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  const syncs: number[] = [];
  let pending = [...deadlines].sort((a, b) => a - b);
  const s = new ExpirySyncer({
    isLeader: () => leader,
    nextExpiryMs: () => pending[0] ?? null,
    proposeSync: async (nowMs) => {
      syncs.push(nowMs);
      pending = pending.filter((d) => d > nowMs);
    },
    logger: silentLogger,
  });
  s.start();
  s.keysChanged();
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      t.mock.timers.tick(1);
      await new Promise<void>((r) => queueMicrotask(r));
    }
  };
  return { s, syncs, advance, pending: () => pending };
}

test('a key expires at its deadline, not at the next 500 ms sync', async (t) => {
  const h = harness(t, [1234]);
  await h.advance(1300);
  assert.deepEqual(h.syncs, [1235]);
  assert.deepEqual(h.pending(), []);
  h.s.stop();
});

test('deadlines close together share one sync; later ones get their own', async (t) => {
  const h = harness(t, [100, 110, 120, 900]);
  await h.advance(1000);
  assert.deepEqual(h.syncs, [101, 151, 901], 'the first sync expires 100; 110 and 120 wait out the 50 ms gap together');
  h.s.stop();
});

test('a follower proposes nothing', async (t) => {
  const h = harness(t, [100], false);
  await h.advance(1200);
  assert.deepEqual(h.syncs, []);
  h.s.stop();
});

test('while a sync hangs (no quorum), the timer does not spin', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
  let looks = 0;
  const syncs: number[] = [];
  const s = new ExpirySyncer({
    isLeader: () => true,
    // A spinning timer would loop inside tick() forever: throw to end it as a failure.
    nextExpiryMs: () => {
      if (++looks > 1000) throw new Error('the expiry timer is spinning');
      return 100;
    },
    proposeSync: (nowMs) => (syncs.push(nowMs), new Promise(() => {})),
    logger: silentLogger,
  });
  s.start();
  s.keysChanged();
  for (let i = 0; i < 2000; i++) {
    t.mock.timers.tick(1);
    await new Promise<void>((r) => queueMicrotask(r));
  }
  assert.deepEqual(syncs, [101], 'one sync, still under way');
  assert.ok(looks < 20, `the keyspace was asked ${looks} times in 2 s`);
  s.stop();
});
