/**
 * The bytes a segment got without a sync since its last durable write. A durable write through
 * an O_DSYNC handle makes only its own range durable (fdatasync made the whole file so), so
 * the next one starts where these bytes do and writes them again: whatever was written before
 * a synced save is durable once that save returns, as with fdatasync.
 */
export class UnsyncedTail {
  private from = -1;
  private bufs: Buffer[] = [];
  private length = 0;

  /** Bytes held (the caller syncs and clears past a bound of its choice). */
  get bytes(): number {
    return this.length;
  }

  /** `data` went to `offset` without a sync; writes are appended, so they are contiguous. */
  wrote(offset: number, data: Buffer): void {
    if (this.from < 0) this.from = offset;
    this.bufs.push(data);
    this.length += data.length;
  }

  /** The durable write that puts `data` at `offset` and covers the unsynced bytes before it. */
  cover(offset: number, data: Buffer): { offset: number; data: Buffer } {
    if (this.from < 0) return { offset, data };
    const out = { offset: this.from, data: Buffer.concat([...this.bufs, data]) };
    this.clear();
    return out;
  }

  /** The file was synced as a whole (fdatasync): nothing is pending. */
  clear(): void {
    this.from = -1;
    this.bufs = [];
    this.length = 0;
  }
}
