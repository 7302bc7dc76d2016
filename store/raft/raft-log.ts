import { AssertionFailed } from '../../lib/errors.ts';
import { CompactedError, UnavailableError } from './errors.ts';
import { limitSize } from './memory-storage.ts';
import type { Entry, Snapshot, Storage } from './types.ts';

/**
 * The log as the core sees it: what storage holds (durable) plus `unstable` entries and maybe a
 * snapshot that the driver has not persisted yet. `committed` and `applied` are the two cursors.
 */
export class RaftLog {
  /** Entries not yet persisted; the first has index `offset`. */
  unstable: Entry[] = [];
  offset: number;
  unstableSnapshot: Snapshot | undefined;
  committed: number;
  applied: number;

  constructor(
    readonly storage: Storage,
    readonly maxApplyBytes = Number.MAX_SAFE_INTEGER,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.offset = last + 1;
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    if (this.unstableSnapshot) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.offset + this.unstable.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  /** The term at `i`; throws CompactedError below the first index, 0 past the end. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError(i, dummy + 1);
    if (i > this.lastIndex()) return 0;
    if (this.unstableSnapshot && i === this.unstableSnapshot.metadata.index) return this.unstableSnapshot.metadata.term;
    if (i >= this.offset && this.unstable.length > 0) return this.unstable[i - this.offset]!.term;
    if (this.unstableSnapshot) throw new CompactedError(i, this.unstableSnapshot.metadata.index + 1);
    return this.storage.term(i);
  }

  termOrZero(i: number): number {
    try {
      return this.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return 0;
      throw e;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(i: number, t: number): boolean {
    return this.termOrZero(i) === t && (i === 0 || t !== 0 || i <= this.lastIndex());
  }

  /** etcd's rule: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi), at most maxBytes (at least one). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo === hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo, first);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    let out: Entry[] = [];
    if (lo < this.offset) {
      out = this.storage.entries(lo, Math.min(hi, this.offset), maxBytes);
      if (out.length < Math.min(hi, this.offset) - lo) return out; // hit the size limit
    }
    if (hi > this.offset) {
      const from = Math.max(lo, this.offset);
      out = out.concat(this.unstable.slice(from - this.offset, hi - this.offset));
    }
    return limitSize(out, maxBytes);
  }

  entriesFrom(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** Appends after truncating any unstable entries at or after the first new index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) throw new AssertionFailed(`append after ${after} is below committed ${this.committed}`);
    const first = ents[0]!.index;
    if (first === this.offset + this.unstable.length) {
      this.unstable.push(...ents);
    } else if (first <= this.offset) {
      this.offset = first;
      this.unstable = [...ents];
    } else {
      this.unstable = [...this.unstable.slice(0, first - this.offset), ...ents];
    }
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours (0 if none). */
  findConflict(ents: Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * A leader's append: if our entry at `index` has `logTerm`, take the entries (truncating a
   * conflicting suffix) and advance commit. Returns the new last index, or null on mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (conflict <= this.committed) throw new AssertionFailed(`entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  commitTo(c: number): void {
    if (c > this.committed) {
      if (c > this.lastIndex()) throw new AssertionFailed(`commit ${c} is out of range [last ${this.lastIndex()}]`);
      this.committed = c;
    }
  }

  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) throw new AssertionFailed(`applied ${i} is out of range [applied ${this.applied}, committed ${this.committed}]`);
    this.applied = i;
  }

  /** Committed entries not yet applied. */
  nextCommitted(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > lo) return this.slice(lo, this.committed + 1, this.maxApplyBytes);
    return [];
  }

  hasNextCommitted(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** The driver persisted entries through (i, t): they leave the unstable list. */
  stableTo(i: number, t: number): void {
    if (i < this.offset) return;
    const k = i - this.offset;
    if (k >= this.unstable.length || this.unstable[k]!.term !== t) return;
    this.unstable = this.unstable.slice(k + 1);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.unstableSnapshot?.metadata.index === i) this.unstableSnapshot = undefined;
  }

  /** Replaces the log with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable = [];
    this.offset = s.metadata.index + 1;
    this.unstableSnapshot = s;
  }

  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }
}
