import { Packr, Unpackr } from 'msgpackr';
import { BINARY_BATCH_MARK, decodeBinaryBatch } from './message-codec.ts';

/**
 * Length-prefixed frames: u32 big-endian payload length, then a msgpack payload, or a batch of
 * raft messages in the binary layout of message-codec.ts (told apart by its first byte).
 */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export function encodeFrame(value: unknown): Buffer {
  const body = packr.pack(value);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Liveness probes: each outbound link sends PING every second or so and the inbound side answers
 * PONG on the same connection, so both ends learn that a link went silent without a FIN or RST.
 */
export const PING = 'ping';
export const PONG = 'pong';
export const PING_FRAME = encodeFrame(PING);
export const PONG_FRAME = encodeFrame(PONG);

export class FrameError extends Error {}

/** Accumulates bytes from a socket and yields complete frames' decoded values. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): unknown[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: unknown[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME_BYTES) throw new FrameError(`frame of ${len} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      try {
        out.push(body[0] === BINARY_BATCH_MARK ? decodeBinaryBatch(body) : unpackr.unpack(body));
      } catch (e) {
        throw new FrameError(`undecodable frame: ${(e as Error).message}`);
      }
    }
    return out;
  }
}
