/**
 * A msgpack writer for the few shapes berth encodes by hand (snapshots of the keyspace, written a
 * slice at a time, snapshot files, the WAL's hard state records): maps and arrays by their headers, strings, numbers, nil,
 * binary headers and bytes packed elsewhere. What it writes, msgpackr reads back as the same values.
 */
export class MsgpackWriter {
  /** Chunks already filled, each cut to what was written in it. */
  private readonly filled: Buffer[] = [];
  private filledBytes = 0;
  private buf: Buffer;
  private pos = 0;

  /**
   * `chunkBytes`: the size of each buffer written into. A full one is kept as it is and a new one
   * started, so a large output is never copied as it grows: at tens of MB that copy alone held the
   * event loop for ~60 ms.
   */
  constructor(private readonly chunkBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Starts again at the beginning of the current chunk: what was written before is given up. */
  reset(): void {
    this.filled.length = 0;
    this.filledBytes = 0;
    this.pos = 0;
  }

  get length(): number {
    return this.filledBytes + this.pos;
  }

  /** What has been written, in order; the writer no longer touches them. */
  chunks(): Buffer[] {
    return this.pos > 0 ? [...this.filled, this.buf.subarray(0, this.pos)] : [...this.filled];
  }

  /** What has been written, as one buffer (a copy when it took more than one chunk). */
  bytes(): Buffer {
    return this.filled.length === 0 ? this.buf.subarray(0, this.pos) : Buffer.concat(this.chunks());
  }

  mapHeader(size: number): void {
    this.header(size, 0x80, 0xde, 0xdf);
  }

  arrayHeader(size: number): void {
    this.header(size, 0x90, 0xdc, 0xdd);
  }

  nil(): void {
    this.room(1);
    this.buf[this.pos++] = 0xc0;
  }

  /** A whole number below 2^32 as the smallest unsigned int; any other as a float 64 (exact up to 2^53), as msgpackr does. */
  number(n: number): void {
    this.room(9);
    if (Number.isInteger(n) && n >= 0 && n <= 0xffffffff) {
      if (n < 0x80) this.buf[this.pos++] = n;
      else this.sized(n, 0xcc, 0xcd, 0xce);
      return;
    }
    this.buf[this.pos++] = 0xcb;
    this.pos = this.buf.writeDoubleBE(n, this.pos);
  }

  /**
   * A string as UTF-8. Its byte length is known only once written, so the header is sized for the
   * most it can take (3 bytes per UTF-16 unit) and filled in after.
   */
  string(s: string): void {
    const most = s.length * 3;
    const head = most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
    this.room(head + most);
    const b = this.buf;
    const at = this.pos;
    const n = b.write(s, at + head, 'utf8');
    if (head === 2) {
      b[at] = 0xd9;
      b[at + 1] = n;
    } else if (head === 3) {
      b[at] = 0xda;
      b.writeUInt16BE(n, at + 1);
    } else {
      b[at] = 0xdb;
      b.writeUInt32BE(n, at + 1);
    }
    this.pos = at + head + n;
  }

  /** The header of `size` bytes of binary data, which the caller writes after it (or elsewhere). */
  binHeader(size: number): void {
    this.room(5);
    this.sized(size, 0xc4, 0xc5, 0xc6);
  }

  /** A field name: a string the caller knows is ASCII and shorter than 32 characters. */
  name(s: string): void {
    this.room(1 + s.length);
    const b = this.buf;
    b[this.pos++] = 0xa0 | s.length;
    for (let i = 0; i < s.length; i++) b[this.pos++] = s.charCodeAt(i);
  }

  /** Bytes that are already msgpack (one value packed by msgpackr, say), copied in as they are. */
  raw(packed: Uint8Array): void {
    this.room(packed.length);
    this.buf.set(packed, this.pos);
    this.pos += packed.length;
  }

  private header(size: number, fix: number, x16: number, x32: number): void {
    this.room(5);
    const b = this.buf;
    if (size < 16) b[this.pos++] = fix | size;
    else if (size < 0x10000) {
      b[this.pos++] = x16;
      this.pos = b.writeUInt16BE(size, this.pos);
    } else {
      b[this.pos++] = x32;
      this.pos = b.writeUInt32BE(size, this.pos);
    }
  }

  /** `n` after the tag of its width, 8, 16 or 32 bits; the caller has made room for 5 bytes. */
  private sized(n: number, x8: number, x16: number, x32: number): void {
    const b = this.buf;
    if (n < 0x100) {
      b[this.pos++] = x8;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = x16;
      this.pos = b.writeUInt16BE(n, this.pos);
    } else {
      b[this.pos++] = x32;
      this.pos = b.writeUInt32BE(n, this.pos);
    }
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) {
      this.filled.push(this.buf.subarray(0, this.pos));
      this.filledBytes += this.pos;
    }
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, n));
    this.pos = 0;
  }
}
