/**
 * Requests waiting for raft: each is submitted (proposed, or asked as a ReadIndex), resubmitted
 * while no leader takes it, and settled by the apply path, by a timeout or by the member
 * stopping. One instance per kind (writes, membership changes, quorum reads).
 */
import { ProposalDroppedError } from '../raft/raw-node.ts';

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
  /** performance.now() past which the request fails with a timeout. */
  deadline: number;
  /** What the request is, for its timeout error. */
  what: string;
  /** performance.now() of the last submission. */
  submittedAt: number;
  /** Hands the request to raft (again, for a write whose copy was lost in a leader change). */
  submit: () => void;
}

export interface PendingRequestsOptions {
  timeoutMs: number;
  /** How long to wait before submitting again when raft drops a request (no leader yet). */
  retryMs: number;
  /** The error a request gets when it times out. */
  timeoutError(what: string): Error;
  /** Called after each submit, so the Ready loop picks the request up. */
  submitted(): void;
  /** Called whenever a request leaves (answered, failed or timed out). */
  settled(key: string, timedOut: boolean): void;
}

/**
 * Every request of one instance gets the same timeout, so the Map's insertion order is also
 * deadline order: one timer, armed for the oldest request, replaces a timer per request (an
 * object allocated, listed and cleared on every write).
 */
export class PendingRequests<T> {
  private readonly waiting = new Map<string, Waiter<T>>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly opts: PendingRequestsOptions) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Submits under `key` and resolves when `settle(key, ...)` is called. */
  wait(key: string, what: string, submit: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(key, { resolve, reject, what, deadline: performance.now() + this.opts.timeoutMs, submittedAt: 0, submit });
      this.sweeper ??= setTimeout(() => this.sweep(), this.opts.timeoutMs);
      this.retry(key);
    });
  }

  has(key: string): boolean {
    return this.waiting.has(key);
  }

  /**
   * Submits the request under `key` (again), if it still waits; once more after retryMs when raft
   * drops it. A method, not a closure per request: the TypeScript loader names every named
   * closure with a defineProperty call, one more runtime call per write.
   */
  retry(key: string): void {
    const w = this.waiting.get(key);
    if (!w) return;
    w.submittedAt = performance.now();
    try {
      w.submit();
      this.opts.submitted();
    } catch (e) {
      if (e instanceof ProposalDroppedError) setTimeout(() => this.retry(key), this.opts.retryMs);
      else this.settle(key, null, e);
    }
  }

  /**
   * Submits again every request whose last submission is `ageMs` old, for requests that are safe
   * to repeat (a ReadIndex: a forwarded one the transport dropped is otherwise never answered).
   */
  retryOlderThan(ageMs: number): void {
    const now = performance.now();
    for (const [key, w] of this.waiting) {
      // Insertion order is first-submission order: from here on, none is old enough.
      if (w.deadline - this.opts.timeoutMs > now - ageMs) return;
      if (now - w.submittedAt >= ageMs) this.retry(key);
    }
  }

  /** Answers the request under `key` (nothing when none waits): with `err` when set, else `value`. */
  settle(key: string, value: T | null, err: unknown): void {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    // Nothing left to time out: a stopped member's process must not wait for the timer.
    if (this.waiting.size === 0 && this.sweeper) {
      clearTimeout(this.sweeper);
      this.sweeper = null;
    }
    this.opts.settled(key, false);
    if (err) w.reject(err);
    else w.resolve(value as T);
  }

  failAll(err: unknown): void {
    for (const key of [...this.waiting.keys()]) this.settle(key, null, err);
  }

  /** Fails the requests whose deadline passed, then arms the timer for the oldest one left. */
  private sweep(): void {
    this.sweeper = null;
    const now = performance.now();
    for (const [key, w] of this.waiting) {
      if (w.deadline > now) {
        this.sweeper = setTimeout(() => this.sweep(), w.deadline - now);
        return;
      }
      this.waiting.delete(key);
      this.opts.settled(key, true);
      w.reject(this.opts.timeoutError(w.what));
    }
  }
}
