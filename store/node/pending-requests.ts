/**
 * Requests waiting for raft: each is submitted (proposed, or asked as a ReadIndex), resubmitted
 * while no leader takes it, and settled by the apply path, by a timeout or by the member
 * stopping. One instance per kind (writes, membership changes, quorum reads).
 */
import { ProposalDroppedError } from '../raft/raw-node.ts';

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
  /** Submits the request again (for a write whose copy was lost in a leader change). */
  retry: () => void;
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

export class PendingRequests<T> {
  private readonly waiting = new Map<string, Waiter<T>>();

  constructor(private readonly opts: PendingRequestsOptions) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Submits under `key` and resolves when `settle(key, ...)` is called. */
  wait(key: string, what: string, submit: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.waiting.delete(key)) return;
        this.opts.settled(key, true);
        reject(this.opts.timeoutError(what));
      }, this.opts.timeoutMs);
      const attempt = () => {
        if (!this.waiting.has(key)) return;
        try {
          submit();
          this.opts.submitted();
        } catch (e) {
          if (e instanceof ProposalDroppedError) setTimeout(attempt, this.opts.retryMs);
          else this.settle(key, null, e);
        }
      };
      this.waiting.set(key, { resolve, reject, timer, retry: attempt });
      attempt();
    });
  }

  has(key: string): boolean {
    return this.waiting.has(key);
  }

  /** Submits the request under `key` again, if it still waits. */
  retry(key: string): void {
    this.waiting.get(key)?.retry();
  }

  /** Answers the request under `key` (nothing when none waits): with `err` when set, else `value`. */
  settle(key: string, value: T | null, err: unknown): void {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    clearTimeout(w.timer);
    this.opts.settled(key, false);
    if (err) w.reject(err);
    else w.resolve(value as T);
  }

  failAll(err: unknown): void {
    for (const key of [...this.waiting.keys()]) this.settle(key, null, err);
  }
}
