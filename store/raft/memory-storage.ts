import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors.ts';
import type { ConfState, Entry, HardState, Snapshot, Storage } from './types.ts';

export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}

/** Entries from the front of `ents` up to `maxBytes` in total, always at least one. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxBytes) break;
  }
  return ents.slice(0, n);
}

/**
 * The raft log the driver has made durable, held in memory (as etcd-raft's MemoryStorage):
 * the driver appends what it persisted and the core reads from it. `ents[0]` is a dummy entry
 * at the snapshot's index and term.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array() };
  private ents: Entry[] = [{ term: 0, index: 0, type: 0, data: new Uint8Array() }];

  /**
   * The commit is at least the snapshot's index: a snapshot holds only committed entries, and a
   * crash after a follower saved the leader's snapshot but before the write that carries its
   * commit leaves the durable hard state behind it (raft refuses a commit below its snapshot).
   */
  initialState(): { hardState: HardState; confState: ConfState } {
    const commit = Math.max(this.hardState.commit, this.snap.metadata.index);
    return { hardState: { ...this.hardState, commit }, confState: structuredClone(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** Sets the membership a brand-new cluster starts with (no snapshot data). */
  setConfState(cs: ConfState): void {
    this.snap = { ...this.snap, metadata: { ...this.snap.metadata, confState: structuredClone(cs) } };
  }

  private get offset(): number {
    return this.ents[0]!.index;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.offset) throw new CompactedError(lo, this.offset + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    return limitSize(this.ents.slice(lo - this.offset, hi - this.offset), maxBytes);
  }

  term(index: number): number {
    if (index < this.offset) throw new CompactedError(index, this.offset + 1);
    if (index - this.offset >= this.ents.length) throw new UnavailableError(index, this.lastIndex());
    return this.ents[index - this.offset]!.term;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  applySnapshot(s: Snapshot): void {
    if (s.metadata.index < this.snap.metadata.index) throw new SnapshotOutOfDateError(s.metadata.index, this.snap.metadata.index);
    this.snap = s;
    this.ents = [{ term: s.metadata.term, index: s.metadata.index, type: 0, data: new Uint8Array() }];
  }

  /** Makes a snapshot at `index` (already applied) with the state machine's `data`. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    this.snap = { metadata: { index, term: this.ents[index - this.offset]!.term, confState: structuredClone(confState) }, data };
    return this.snap;
  }

  /** Drops entries before `index` (keeps `index` as the new dummy). */
  compact(index: number): void {
    if (index <= this.offset) return;
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    const i = index - this.offset;
    const dummy = this.ents[i]!;
    this.ents = [{ term: dummy.term, index: dummy.index, type: 0, data: new Uint8Array() }, ...this.ents.slice(i + 1)];
  }

  /** Appends persisted entries, replacing any conflicting suffix. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const offset = entries[0]!.index - this.offset;
    if (offset > this.ents.length) throw new UnavailableError(entries[0]!.index, this.lastIndex());
    // In place: copying the whole log on every append cost ~2% of a busy leader's CPU.
    this.ents.length = offset;
    for (const e of entries) this.ents.push(e);
  }
}
