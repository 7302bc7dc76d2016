import type { ProgressView } from './types.ts';

/**
 * The leader's view of one follower: `match` (highest index known replicated), `next` (next
 * index to send) and the flow-control state. In `probe` one append is in flight at a time; in
 * `replicate` appends are pipelined up to `maxInflight`; in `snapshot` we wait for a snapshot.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressView['state'] = 'probe';
  /** Probe state: an append was sent and not answered yet (until a heartbeat response). */
  probeSent = false;
  pendingSnapshot = 0;
  recentActive = false;
  /** Last index of each append in flight, oldest first (replicate state). */
  private readonly inflight: number[] = [];

  constructor(
    next: number,
    public isLearner: boolean,
    private readonly maxInflight: number,
  ) {
    this.next = next;
  }

  private resetState(state: ProgressView['state']): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflight.length = 0;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An ack for `n`: returns true when it moved match forward. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Optimistic bump after sending entries through `last` (replicate state). */
  sentEntries(last: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = last + 1;
        this.inflight.push(last);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Frees one slot so a stalled pipeline (its appends lost) can probe again. */
  freeFirstInflight(): void {
    this.inflight.shift();
  }

  freeInflightUpTo(index: number): void {
    while (this.inflight.length > 0 && this.inflight[0]! <= index) this.inflight.shift();
  }

  /**
   * A rejection of an append at `rejected`, with the follower's hint of where its log could
   * match. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'snapshot':
        return true;
    }
  }

  view(): ProgressView {
    return { match: this.match, next: this.next, state: this.state, recentActive: this.recentActive, isLearner: this.isLearner };
  }
}
