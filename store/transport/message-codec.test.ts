import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { MessageType, type Entry, type Message } from '../raft/types.ts';
import { FrameError, FrameReader } from './frames.ts';
import { BINARY_BATCH_MARK, MessageDecodeError, decodeBinaryBatch, encodeBinaryFrame } from './message-codec.ts';

const TYPES = [MessageType.MsgProp, MessageType.MsgApp, MessageType.MsgAppResp, MessageType.MsgVote, MessageType.MsgPreVoteResp, MessageType.MsgHeartbeat, MessageType.MsgHeartbeatResp, MessageType.MsgTimeoutNow, MessageType.MsgReadIndex, MessageType.MsgReadIndexResp];

function bytes(rand: Rand, max: number): Uint8Array {
  const b = new Uint8Array(rand.int(max + 1));
  for (let i = 0; i < b.length; i++) b[i] = rand.int(256);
  return b;
}

/** Any number raft puts in a message: small counters, and ids up to the largest exact integer. */
function num(rand: Rand): number {
  return rand.chance(0.3) ? Number.MAX_SAFE_INTEGER - rand.int(1000) : rand.chance(0.5) ? rand.int(10) : rand.nextUint32() * 2 ** 20 + rand.int(2 ** 20);
}

function randomMessage(rand: Rand): Message {
  const entries: Entry[] = Array.from({ length: rand.chance(0.5) ? 0 : rand.range(1, 20) }, () => ({ term: num(rand), index: num(rand), type: rand.int(2), data: bytes(rand, rand.chance(0.1) ? 5000 : 200) }));
  const m: Message = { type: rand.pick(TYPES), from: num(rand), to: num(rand), term: num(rand), logTerm: num(rand), index: num(rand), entries, commit: num(rand), reject: rand.chance(0.2), rejectHint: num(rand) };
  if (rand.chance(0.3)) m.context = bytes(rand, 40);
  return m;
}

test('message batches survive the binary layout unchanged', () => {
  const seed = seedFromEnv();
  console.log(`message codec property seed ${seed} (SEED=${seed} replays it)`);
  const rand = new Rand(seed);
  for (let i = 0; i < 500; i++) {
    const msgs = Array.from({ length: rand.range(0, 8) }, () => randomMessage(rand));
    const frame = encodeBinaryFrame(msgs);
    assert.equal(frame.readUInt32BE(0), frame.length - 4, 'the length prefix');
    assert.equal(frame[4], BINARY_BATCH_MARK);
    assert.deepStrictEqual(decodeBinaryBatch(frame.subarray(4)), msgs, `batch ${i} (seed ${seed})`);
  }
});

test('a message carrying a snapshot is refused: it has no binary layout', () => {
  const snap: Message = { type: MessageType.MsgSnap, from: 1, to: 2, term: 3, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, snapshot: { metadata: { index: 9, term: 3, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array([1]) } };
  assert.throws(() => encodeBinaryFrame([snap]), /snapshot has no binary layout/);
});

test('decoded entries and contexts are copies, not views into the frame', () => {
  const m: Message = { type: MessageType.MsgApp, from: 1, to: 2, term: 3, logTerm: 3, index: 9, entries: [{ term: 3, index: 10, type: 0, data: new Uint8Array([1, 2, 3]) }], commit: 9, reject: false, rejectHint: 0, context: new Uint8Array([7]) };
  const body = encodeBinaryFrame([m]).subarray(4);
  const [got] = decodeBinaryBatch(body);
  body.fill(0);
  assert.deepEqual([...got!.entries[0]!.data], [1, 2, 3]);
  assert.deepEqual([...got!.context!], [7]);
  assert.equal(Buffer.isBuffer(got!.entries[0]!.data), false, 'a plain Uint8Array, as raft and the WAL expect');
});

test('a damaged binary batch is refused with a MessageDecodeError, never a crash or a wrong message', () => {
  const seed = seedFromEnv();
  console.log(`damaged batch seed ${seed}`);
  const rand = new Rand(seed);
  const msgs = [randomMessage(rand), { ...randomMessage(rand), context: new Uint8Array([1, 2]) }, randomMessage(rand)];
  const body = encodeBinaryFrame(msgs).subarray(4);
  // Every cut short of the whole body.
  for (let len = 0; len < body.length; len++) assert.throws(() => decodeBinaryBatch(body.subarray(0, len)), MessageDecodeError, `cut at ${len} of ${body.length}`);
  // Bytes after the last message.
  assert.throws(() => decodeBinaryBatch(Buffer.concat([body, Buffer.from([0])])), /bytes after the last message/);
  // A type code no member knows.
  const unknownType = Buffer.from(body);
  unknownType[5] = 250;
  assert.throws(() => decodeBinaryBatch(unknownType), /unknown message type code 250/);
  // Counts far beyond what the body holds fail at once rather than allocating for them.
  const hugeCount = Buffer.from(body);
  hugeCount.writeUInt32LE(0xffffffff, 1);
  assert.throws(() => decodeBinaryBatch(hugeCount), /cannot fit/);
});

test('a frame reader takes binary and msgpack frames from the same stream, and names a bad binary one', () => {
  const m: Message = { type: MessageType.MsgHeartbeat, from: 1, to: 2, term: 4, logTerm: 0, index: 0, entries: [], commit: 7, reject: false, rejectHint: 0 };
  const reader = new FrameReader();
  const binary = encodeBinaryFrame([m]);
  // Split mid-frame: the reader waits for the rest.
  assert.deepEqual(reader.push(binary.subarray(0, 10)), []);
  const [batch] = reader.push(binary.subarray(10));
  assert.deepStrictEqual(batch, [m]);
  const broken = Buffer.from(binary);
  broken.writeUInt32BE(binary.length - 5, 0); // one byte short: the last message is cut
  assert.throws(() => new FrameReader().push(broken.subarray(0, binary.length - 1)), FrameError);
});
