import { crc32 } from 'node:zlib';
import { MsgpackWriter } from '../../lib/msgpack-writer.ts';
import type { Entry, HardState } from '../raft/types.ts';

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
  /**
   * An entry in a fixed layout: f64 term, f64 index, u8 type, then its data to the end. Written
   * instead of Entry (msgpack {t, i, y, d}) since 2026-11; both are read.
   */
  BinaryEntry = 6,
}

export const HEADER_BYTES = 9;
/** A record larger than this is garbage, not data (bounds the damage of a corrupt length). */
export const MAX_RECORD_BYTES = 512 * 1024 * 1024;

export function encodeRecord(type: RecordType, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buf.set(payload, HEADER_BYTES);
  sealRecord(buf, 0, type, payload.length);
  return buf;
}

/** Writes the header of the record at `offset` of `buf`, whose payload is already in place after it. */
function sealRecord(buf: Buffer, offset: number, type: RecordType, payloadLength: number): void {
  buf.writeUInt32LE(payloadLength, offset);
  buf[offset + 8] = type;
  buf.writeUInt32LE(crc32(buf.subarray(offset + 8, offset + HEADER_BYTES + payloadLength)), offset + 4);
}

const ENTRY_FIELDS_BYTES = 8 + 8 + 1;

/** Writes each hard state's payload; reset for the next, so its buffer is reused. */
const hardStateWriter = new MsgpackWriter(64);

/** The msgpack map {t, v, c} of a hard state, in a buffer the next call writes over. */
function hardStatePayload(hs: HardState): Buffer {
  const w = hardStateWriter;
  w.reset();
  w.mapHeader(3);
  w.name('t');
  w.number(hs.term);
  w.name('v');
  w.number(hs.vote);
  w.name('c');
  w.number(hs.commit);
  return w.bytes();
}

/**
 * A hard state record: its payload is the msgpack of {t, v, c} (what replay reads), written by
 * hand: every Ready of every member writes one, and msgpackr took ~4 µs a cluster write for it
 * (perf of 3 members, 16 connections of PUTs spread).
 */
export function encodeHardState(hs: HardState): Buffer {
  return encodeEntryRecords([], hs);
}

/**
 * `entries` as BinaryEntry records, then the hard state's record, in one buffer: a Ready's
 * write is one allocation and no msgpack.
 */
export function encodeEntryRecords(entries: readonly Entry[], hardState?: HardState): Buffer {
  const hs = hardState && hardStatePayload(hardState);
  let size = hs ? HEADER_BYTES + hs.length : 0;
  for (const e of entries) size += HEADER_BYTES + ENTRY_FIELDS_BYTES + e.data.length;
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  for (const e of entries) {
    const p = o + HEADER_BYTES;
    buf.writeDoubleLE(e.term, p);
    buf.writeDoubleLE(e.index, p + 8);
    buf[p + 16] = e.type;
    buf.set(e.data, p + ENTRY_FIELDS_BYTES);
    sealRecord(buf, o, RecordType.BinaryEntry, ENTRY_FIELDS_BYTES + e.data.length);
    o = p + ENTRY_FIELDS_BYTES + e.data.length;
  }
  if (hs) {
    buf.set(hs, o + HEADER_BYTES);
    sealRecord(buf, o, RecordType.HardState, hs.length);
  }
  return buf;
}

/** The index of a BinaryEntry payload, without copying its data; null when too short to hold an entry. */
export function binaryEntryIndex(payload: Buffer): number | null {
  return payload.length < ENTRY_FIELDS_BYTES ? null : payload.readDoubleLE(8);
}

/**
 * A BinaryEntry payload's entry (one binaryEntryIndex found whole); its data is a copy, so the
 * log does not pin a whole segment.
 */
export function decodeBinaryEntry(payload: Buffer): Entry {
  return { term: payload.readDoubleLE(0), index: payload.readDoubleLE(8), type: payload[16]!, data: new Uint8Array(payload.subarray(ENTRY_FIELDS_BYTES)) };
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
