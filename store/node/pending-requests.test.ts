import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProposalDroppedError } from '../raft/raw-node.ts';
import { PendingRequests } from './pending-requests.ts';

function make(timeoutMs = 1000) {
  const log: string[] = [];
  const pending = new PendingRequests<string>({
    timeoutMs,
    retryMs: 5,
    timeoutError: (what) => new Error(`${what} timed out`),
    submitted: () => log.push('submitted'),
    settled: (key, timedOut) => log.push(`settled ${key}${timedOut ? ' (timeout)' : ''}`),
  });
  return { pending, log };
}

test('a request is submitted at once and answered by settle', async () => {
  const { pending, log } = make();
  let submits = 0;
  const answer = pending.wait('a', 'write', () => submits++);
  assert.equal(pending.size, 1);
  pending.settle('a', 'done', null);
  assert.equal(await answer, 'done');
  assert.deepEqual([submits, pending.size, log], [1, 0, ['submitted', 'settled a']]);
  pending.settle('a', 'again', null); // nothing waits any more: no effect
  assert.deepEqual(log, ['submitted', 'settled a']);
});

test('a request nobody answers times out with the given error', async () => {
  const { pending, log } = make(20);
  await assert.rejects(pending.wait('a', 'quorum read', () => {}), /quorum read timed out/);
  assert.deepEqual([pending.size, log.at(-1)], [0, 'settled a (timeout)']);
});

test('while raft drops the request (no leader) it is submitted again; other submit errors fail it', async () => {
  const { pending } = make();
  let tries = 0;
  const answer = pending.wait('a', 'write', () => {
    if (++tries < 3) throw new ProposalDroppedError('no leader');
    pending.settle('a', `after ${tries}`, null);
  });
  assert.equal(await answer, 'after 3');
  await assert.rejects(pending.wait('b', 'write', () => { throw new Error('bad entry'); }), /bad entry/);
  assert.equal(pending.size, 0);
});

test('retry submits a waiting request again; failAll fails every one', async () => {
  const { pending } = make();
  let submits = 0;
  const a = pending.wait('a', 'write', () => submits++);
  const b = pending.wait('b', 'write', () => {});
  pending.retry('a');
  pending.retry('gone');
  assert.equal(submits, 2);
  pending.failAll(new Error('stopped'));
  await assert.rejects(a, /stopped/);
  await assert.rejects(b, /stopped/);
  assert.equal(pending.size, 0);
});

test('requests time out oldest first, each after its own timeout, while later ones still wait', async () => {
  const { pending, log } = make(40);
  const a = pending.wait('a', 'write', () => {});
  await new Promise((r) => setTimeout(r, 25));
  const b = pending.wait('b', 'write', () => {});
  const started = performance.now();
  await assert.rejects(a, /write timed out/);
  // a's deadline came first; b (25 ms younger) still waits and can be answered.
  assert.deepEqual([pending.size, pending.has('b')], [1, true]);
  await assert.rejects(b, /write timed out/);
  const bWaited = performance.now() - started;
  assert.ok(bWaited >= 20, `b timed out ${bWaited.toFixed(1)} ms after a, expected about 25`);
  assert.deepEqual(log.filter((l) => l.includes('timeout')), ['settled a (timeout)', 'settled b (timeout)']);
  const c = pending.wait('c', 'write', () => {});
  pending.settle('c', 'ok', null);
  assert.equal(await c, 'ok');
});

test('retryOlderThan submits again only what waited that long since its last submission', async () => {
  const { pending } = make(10_000);
  const submits = { old: 0, young: 0 };
  const old = pending.wait('old', 'quorum read', () => submits.old++);
  await new Promise((r) => setTimeout(r, 60));
  const young = pending.wait('young', 'quorum read', () => submits.young++);
  pending.retryOlderThan(50);
  assert.deepEqual(submits, { old: 2, young: 1 });
  pending.retryOlderThan(50); // just submitted again: not old enough now
  assert.deepEqual(submits, { old: 2, young: 1 });
  await new Promise((r) => setTimeout(r, 60));
  pending.retryOlderThan(50);
  assert.deepEqual(submits, { old: 3, young: 2 });
  pending.settle('old', 'a', null);
  pending.settle('young', 'b', null);
  assert.deepEqual([await old, await young], ['a', 'b']);
});
