import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message } from '../raft/raft.ts';
import { EntryType, MessageType, type Entry, type Ready } from '../raft/types.ts';
import { splitReady } from './ready-split.ts';

const entry = (index: number): Entry => ({ index, term: 2, type: EntryType.Normal, data: new Uint8Array([index]) });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => entry(from + k));
const indexes = (es: Entry[]) => es.map((e) => e.index);

function ready(fields: Partial<Ready>): Ready {
  return { readStates: [], entries: [], committedEntries: [], messages: [], mustSync: false, ...fields };
}

const replication = [message(MessageType.MsgApp, 2), message(MessageType.MsgHeartbeat, 3), message(MessageType.MsgSnap, 3)];
const promises = [message(MessageType.MsgAppResp, 1), message(MessageType.MsgVoteResp, 1), message(MessageType.MsgReadIndexResp, 2)];

test('a leader sends its replication before its write and the rest after; a follower sends everything after', () => {
  const rd = ready({ messages: [promises[0]!, replication[0]!, promises[1]!, replication[1]!, replication[2]!, promises[2]!] });
  const leader = splitReady(rd, true);
  assert.deepEqual(leader.early, replication);
  assert.deepEqual(leader.late, promises);
  const follower = splitReady(rd, false);
  assert.deepEqual(follower.early, []);
  assert.deepEqual(follower.late, rd.messages);
});

test('committed entries below the first new entry apply before the write; from it on, after', () => {
  const split = splitReady(ready({ entries: range(8, 10), committedEntries: range(5, 9) }), true);
  assert.deepEqual(indexes(split.durable), [5, 6, 7]);
  assert.deepEqual(indexes(split.pending), [8, 9]);
});

test('with no new entries every committed entry is already durable', () => {
  const split = splitReady(ready({ committedEntries: range(3, 6) }), false);
  assert.deepEqual(indexes(split.durable), [3, 4, 5, 6]);
  assert.deepEqual(split.pending, []);
});

test('when every committed entry is new, all wait for the write', () => {
  const split = splitReady(ready({ entries: range(4, 6), committedEntries: range(4, 5) }), true);
  assert.deepEqual(split.durable, []);
  assert.deepEqual(indexes(split.pending), [4, 5]);
});

test('a snapshot in the Ready holds back every committed entry until it is written', () => {
  const snapshot = { metadata: { index: 20, term: 2, confState: { voters: [1, 2, 3], learners: [] } }, data: new Uint8Array() };
  const split = splitReady(ready({ snapshot, committedEntries: range(21, 22) }), false);
  assert.deepEqual(split.durable, []);
  assert.deepEqual(indexes(split.pending), [21, 22]);
});
