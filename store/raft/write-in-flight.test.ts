import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from './memory-storage.ts';
import { message } from './raft.ts';
import type { RawNode } from './raw-node.ts';
import { RaftHarness } from './test-harness.ts';
import { EntryType, MessageType, type Entry, type Ready } from './types.ts';

const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(`${index}@${term}`) });
const range = (from: number, to: number, term: number) => Array.from({ length: to - from + 1 }, (_, k) => entry(from + k, term));

/** Member 2 of a 3-member cluster, its log empty; the test hands it messages itself. */
function follower(): { node: RawNode; storage: MemoryStorage } {
  const h = new RaftHarness([1, 2, 3], { checkQuorum: true, preVote: true });
  return { node: h.node(2), storage: h.storages.get(2)! };
}

/** What StoreNode does once a Ready's write completes. */
function written(node: RawNode, storage: MemoryStorage, rd: Ready): void {
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  node.advance(rd);
}

const terms = (node: RawNode, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => node.raft.log.termOrZero(from + k));

test('a leader change that overwrites entries still being written: the new ones are written next, the old ones do not stick', () => {
  const { node, storage } = follower();
  node.step(message(MessageType.MsgApp, 2, { from: 1, term: 5, index: 0, logTerm: 0, entries: range(1, 3, 5), commit: 0 }));
  const first = node.ready();
  assert.deepEqual(first.entries.map((e) => e.term), [5, 5, 5]);
  // While `first` is being written, leader 3 of term 6 replaces entries 1..3 and adds 4..5.
  node.step(message(MessageType.MsgApp, 2, { from: 3, term: 6, index: 0, logTerm: 0, entries: range(1, 5, 6), commit: 0 }));
  written(node, storage, first);
  assert.deepEqual(terms(node, 1, 5), [6, 6, 6, 6, 6], 'the log reads the new term at every index');
  const second = node.ready();
  assert.deepEqual(second.entries.map((e) => `${e.index}@${e.term}`), ['1@6', '2@6', '3@6', '4@6', '5@6'], 'every overwritten entry is written again');
  written(node, storage, second);
  assert.deepEqual(terms(node, 1, 5), [6, 6, 6, 6, 6]);
  assert.deepEqual(storage.entries(1, 6, Infinity).map((e) => e.term), [6, 6, 6, 6, 6], 'the storage holds the new entries only');
});

test('appends that arrive while a Ready is written are answered only after the next write', () => {
  const { node, storage } = follower();
  node.step(message(MessageType.MsgApp, 2, { from: 1, term: 5, index: 0, logTerm: 0, entries: range(1, 2, 5), commit: 0 }));
  const first = node.ready();
  assert.deepEqual(first.messages.map((m) => [m.type, m.index]), [[MessageType.MsgAppResp, 2]]);
  node.step(message(MessageType.MsgApp, 2, { from: 1, term: 5, index: 2, logTerm: 5, entries: range(3, 4, 5), commit: 2 }));
  written(node, storage, first);
  const second = node.ready();
  assert.deepEqual(second.entries.map((e) => e.index), [3, 4], 'the entries that came in during the write are in the next one');
  assert.deepEqual(second.messages.map((m) => [m.type, m.index]), [[MessageType.MsgAppResp, 4]], 'and so is their acknowledgement');
  assert.deepEqual(second.committedEntries.map((e) => e.index), [1, 2], 'entries written by the first Ready are applied with the second');
  written(node, storage, second);
  assert.equal(node.hasReady(), false);
});
