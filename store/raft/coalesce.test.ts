import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byPeer, coalesceMessages } from './coalesce.ts';
import { MessageType, type Entry, type Message } from './types.ts';

const entry = (index: number, term = 2, bytes = 4): Entry => ({ index, term, type: 0, data: new Uint8Array(bytes) });
const app = (index: number, logTerm: number, entries: Entry[], commit: number, extra: Partial<Message> = {}): Message => ({ type: MessageType.MsgApp, from: 1, to: 2, term: 2, logTerm, index, entries, commit, reject: false, rejectHint: 0, ...extra });
const resp = (index: number, extra: Partial<Message> = {}): Message => ({ type: MessageType.MsgAppResp, from: 2, to: 1, term: 2, logTerm: 0, index, entries: [], commit: 0, reject: false, rejectHint: 0, ...extra });
const indexes = (m: Message) => m.entries.map((e) => e.index);

test('appends that continue each other become one, with the later commit', () => {
  const out = coalesceMessages([app(10, 2, [entry(11)], 9), app(11, 2, [entry(12)], 10), app(12, 2, [entry(13), entry(14)], 11)], 1 << 20);
  assert.equal(out.length, 1);
  assert.deepEqual({ index: out[0]!.index, logTerm: out[0]!.logTerm, commit: out[0]!.commit, entries: indexes(out[0]!) }, { index: 10, logTerm: 2, commit: 11, entries: [11, 12, 13, 14] });
});

test('commit-only appends fold into the append before or after them', () => {
  const before = coalesceMessages([app(10, 2, [], 9), app(10, 2, [entry(11)], 9)], 1 << 20);
  assert.deepEqual(before.map((m) => [m.index, indexes(m), m.commit]), [[10, [11], 9]]);
  const after = coalesceMessages([app(10, 2, [entry(11)], 9), app(11, 2, [], 11)], 1 << 20);
  assert.deepEqual(after.map((m) => [m.index, indexes(m), m.commit]), [[10, [11], 11]]);
});

test('appends that do not continue each other stay apart', () => {
  const gap = [app(10, 2, [entry(11)], 9), app(12, 2, [entry(13)], 9)];
  assert.equal(coalesceMessages(gap, 1 << 20).length, 2, 'a gap');
  const otherTerm = [app(10, 2, [entry(11, 2)], 9), app(11, 1, [entry(12)], 9)];
  assert.equal(coalesceMessages(otherTerm, 1 << 20).length, 2, 'the previous entry has another term');
  const newLeaderTerm = [app(10, 2, [entry(11)], 9), app(11, 2, [entry(12, 3)], 9, { term: 3 })];
  assert.equal(coalesceMessages(newLeaderTerm, 1 << 20).length, 2, 'a later message term');
  const heartbeatBetween: Message[] = [app(10, 2, [entry(11)], 9), { ...resp(0), type: MessageType.MsgHeartbeat, from: 1, to: 2 }, app(11, 2, [entry(12)], 9)];
  assert.equal(coalesceMessages(heartbeatBetween, 1 << 20).length, 3, 'only adjacent messages merge');
});

test('a merged append stops growing at maxBytes of entry data', () => {
  const msgs = [10, 11, 12, 13].map((i) => app(i, 2, [entry(i + 1, 2, 100)], 9));
  assert.deepEqual(coalesceMessages(msgs, 250).map(indexes), [[11, 12], [13, 14]]);
});

test('positive append answers collapse into the highest; rejections are never merged away', () => {
  assert.deepEqual(coalesceMessages([resp(11), resp(12), resp(14)], 1 << 20).map((m) => m.index), [14]);
  assert.deepEqual(coalesceMessages([resp(14), resp(9)], 1 << 20).map((m) => m.index), [14], 'a stale answer adds nothing');
  const withReject = coalesceMessages([resp(11), resp(12, { reject: true, rejectHint: 5 }), resp(13)], 1 << 20);
  assert.deepEqual(withReject.map((m) => [m.index, m.reject]), [[11, false], [12, true], [13, false]]);
});

test('the input messages and their entry lists are left as they were', () => {
  const a = app(10, 2, [entry(11)], 9);
  const b = app(11, 2, [entry(12)], 10);
  const c = app(12, 2, [entry(13)], 11);
  const [merged] = coalesceMessages([a, b, c], 1 << 20);
  assert.deepEqual([indexes(merged!), merged!.commit], [[11, 12, 13], 11]);
  assert.deepEqual([indexes(a), a.commit, indexes(b), b.commit, indexes(c)], [[11], 9, [12], 10, [13]]);
});

test('byPeer groups messages by destination and keeps each peer\'s order', () => {
  const msgs = [app(10, 2, [entry(11)], 9, { to: 2 }), app(10, 2, [entry(11)], 9, { to: 3 }), app(11, 2, [entry(12)], 9, { to: 2 })];
  const groups = byPeer(msgs);
  assert.deepEqual([...groups.keys()], [2, 3]);
  assert.deepEqual(groups.get(2)!.map((m) => m.index), [10, 11]);
  assert.deepEqual(groups.get(3)!.map((m) => m.index), [10]);
});
