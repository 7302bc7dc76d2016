import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProposalEpochs } from './proposal-epochs.ts';

test('a copy is applied only in an entry of its own term', () => {
  const p = new ProposalEpochs();
  assert.equal(p.shouldApply(3, 'a', 3), true);
  assert.equal(p.shouldApply(4, 'b', 3), false, 'sent in term 3, appended in term 4: skipped');
  assert.equal(p.shouldApply(4, 'c', undefined), true, 'entries from before epochs apply as they are');
  assert.equal(p.shouldApply(5), true, 'non-proposal entries always apply');
});

test('an unanswered write is sent again once an entry of a later term is applied, and only then', () => {
  const p = new ProposalEpochs();
  p.sent('w1', 2);
  p.shouldApply(2);
  assert.deepEqual(p.takeLost(), [], 'term 2 still running: the copy may yet commit');
  p.shouldApply(3); // the new leader's empty entry
  assert.deepEqual(p.takeLost(), ['w1']);
  assert.deepEqual(p.takeLost(), [], 'handed out once; it waits for sent() again');
  p.sent('w1', 3);
  p.shouldApply(3, 'w1', 3);
  p.settled('w1');
  p.shouldApply(4);
  assert.deepEqual(p.takeLost(), [], 'answered writes are never sent again');
});

test('a skipped copy is sent again at once; a skipped older copy is not, while a newer one is in flight', () => {
  const p = new ProposalEpochs();
  p.sent('w', 5);
  p.shouldApply(5);
  assert.equal(p.shouldApply(6, 'w', 5), false);
  assert.deepEqual(p.takeLost(), ['w']);
  p.sent('w', 6);
  assert.equal(p.shouldApply(7, 'w', 5), false, 'a stale copy from term 5 surfaces in term 7');
  p.shouldApply(6);
  p.sent('x', 7);
  // Term 7 is applied, so the copy from term 6 is lost too; the one from term 5 changed nothing.
  assert.deepEqual(p.takeLost(), ['w']);
  p.sent('w', 7);
  assert.deepEqual(p.takeLost(), []);
});

test('after a snapshot is restored, writes in flight are never sent again (the snapshot may hold them)', () => {
  const p = new ProposalEpochs();
  p.sent('w', 4);
  p.restored(6);
  assert.deepEqual(p.takeLost(), []);
  p.sent('v', 6);
  p.shouldApply(7);
  assert.deepEqual(p.takeLost(), ['v'], 'writes sent after the restore are tracked as before');
});
