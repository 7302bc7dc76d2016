import { crc32 } from 'node:zlib';

/**
 * One WAL record on disk: u32 payload length, u32 CRC-32 of (type byte + payload), u8 type,
 * payload. A record is valid only when its length fits in the file and its CRC matches.
 */
export const enum RecordType {
  /** {clusterId, memberId}: first record of every segment. */
  Metadata = 1,
  Entry = 2,
  HardState = 3,
  /** A snapshot was saved at {index, term}: replay starts after it. */
  Snapshot = 4,
  /** The membership a brand-new member starts with. */
  Bootstrap = 5,
}

export const HEADER_BYTES = 9;
/** A record larger than this is garbage, not data (bounds the damage of a corrupt length). */
export const MAX_RECORD_BYTES = 512 * 1024 * 1024;

export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt8(type, 8);
  buf.set(payload, HEADER_BYTES);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export type DecodeResult =
  | { ok: true; type: RecordType; payload: Buffer; next: number }
  | { ok: false; reason: 'truncated' | 'crc' | 'length'; next: number };

/** Decodes the record at `offset`; `next` is where the following record would start. */
export function decodeRecord(buf: Buffer, offset: number): DecodeResult {
  if (offset + HEADER_BYTES > buf.length) return { ok: false, reason: 'truncated', next: buf.length };
  const len = buf.readUInt32LE(offset);
  if (len > MAX_RECORD_BYTES) return { ok: false, reason: 'length', next: buf.length };
  const end = offset + HEADER_BYTES + len;
  if (end > buf.length) return { ok: false, reason: 'truncated', next: buf.length };
  const crc = buf.readUInt32LE(offset + 4);
  if (crc32(buf.subarray(offset + 8, end)) !== crc) return { ok: false, reason: 'crc', next: end };
  return { ok: true, type: buf.readUInt8(offset + 8) as RecordType, payload: buf.subarray(offset + HEADER_BYTES, end), next: end };
}

/** The offset just past the last of the valid records that run from the start of `buf`. */
export function endOfRecords(buf: Buffer): number {
  let offset = 0;
  for (let r = decodeRecord(buf, 0); r.ok; r = decodeRecord(buf, offset)) offset = r.next;
  return offset;
}
