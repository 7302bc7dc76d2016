/**
 * KeyLease keeps a TTL key alive for as long as its owner wants it, and tells the owner (an
 * AbortSignal) the moment it can no longer be sure the key is still there.
 *
 * The lease is only as long as the store promises: the deadline is the time the last
 * successful refresh was *sent* plus the TTL, never later than the store's own expiry, so an
 * owner that checks `valid` before acting never acts after the store gave the key away (on
 * one machine's clock; `clockSkewMs` covers skew between machines).
 */
import { silentLogger, type Logger } from '../../../lib/log.ts';
import { EtcdError, EtcdErrorCode, type KvBackend } from '../kv-backend.ts';
import { LeaseLostError } from './errors.ts';

/** The key to keep alive and what is known about it when it was created. */
export interface KeyLeaseOptions {
  kv: KvBackend;
  key: string;
  ttlSeconds: number;
  /** createdIndex of the key: identifies this owner's key (and is its fencing token). */
  createdIndex: number;
  modifiedIndex: number;
  /** When the request that created the key was sent (ms, `now()` clock). */
  sentAtMs: number;
  clockSkewMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** Refreshes one TTL key until stopped or lost (see the file comment). */
export class KeyLease {
  private readonly controller = new AbortController();
  private readonly now: () => number;
  private deadlineMs: number;
  private modifiedIndex: number;
  private stopped = false;
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly loop: Promise<void>;
  /** Ends the refresh loop's current pause early (on stop). */
  private wake: (() => void) | null = null;

  constructor(private readonly o: KeyLeaseOptions) {
    this.now = o.now ?? Date.now;
    this.modifiedIndex = o.modifiedIndex;
    this.deadlineMs = o.sentAtMs + o.ttlSeconds * 1000 - (o.clockSkewMs ?? 0);
    this.armExpiry();
    this.loop = this.refreshLoop();
  }

  /** Aborted (with a LeaseLostError as reason) when the key is lost or its TTL ran out unrefreshed. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True while the store still promises the key is ours. Check it right before acting. */
  get valid(): boolean {
    return !this.controller.signal.aborted && this.now() < this.deadlineMs;
  }

  /** The local time (ms) until which the key is known to be ours. */
  get validUntilMs(): number {
    return this.deadlineMs;
  }

  /** The key's modifiedIndex after the last refresh (for conditional deletes). */
  get currentIndex(): number {
    return this.modifiedIndex;
  }

  /** Stops refreshing (the owner releases or resigns). Does not delete the key. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.wake?.();
    await this.loop;
  }

  private lose(why: string): void {
    if (this.controller.signal.aborted || this.stopped) return;
    (this.o.logger ?? silentLogger).warn({ key: this.o.key, why }, 'lease lost');
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.controller.abort(new LeaseLostError(this.o.key, why));
  }

  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      if (this.now() >= this.deadlineMs) this.lose(`not refreshed within its ${this.o.ttlSeconds}s TTL`);
      else this.armExpiry();
    }, Math.max(0, this.deadlineMs - this.now()));
    this.expiryTimer.unref();
  }

  private async refreshLoop(): Promise<void> {
    const everyMs = (this.o.ttlSeconds * 1000) / 3;
    let wait = everyMs;
    while (!this.stopped && !this.controller.signal.aborted) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, wait);
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.wake = null;
      if (this.stopped || this.controller.signal.aborted) return;
      wait = (await this.refreshOnce()) ? everyMs : Math.min(200, everyMs);
    }
  }

  /** One refresh; false when it should be retried soon (a network error or a stale index). */
  private async refreshOnce(): Promise<boolean> {
    const sentAt = this.now();
    try {
      const r = await this.o.kv.set(this.o.key, '', { refresh: true, ttl: this.o.ttlSeconds, prevIndex: this.modifiedIndex });
      if (this.stopped) return true;
      this.modifiedIndex = r.node?.modifiedIndex ?? this.modifiedIndex;
      this.deadlineMs = Math.max(this.deadlineMs, sentAt + this.o.ttlSeconds * 1000 - (this.o.clockSkewMs ?? 0));
      this.armExpiry();
      return true;
    } catch (e) {
      if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.KeyNotFound) this.lose('the key is gone (expired or deleted)');
      else if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.TestFailed) await this.reconcile();
      else (this.o.logger ?? silentLogger).warn({ key: this.o.key, err: (e as Error).message }, 'lease refresh failed; retrying');
      return false;
    }
  }

  /** The key changed under us: still ours if its createdIndex is, else lost. */
  private async reconcile(): Promise<void> {
    try {
      const r = await this.o.kv.get(this.o.key, { quorum: true });
      if (r.node?.createdIndex === this.o.createdIndex) this.modifiedIndex = r.node.modifiedIndex;
      else this.lose('the key now belongs to another owner');
    } catch (e) {
      if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.KeyNotFound) this.lose('the key is gone (expired or deleted)');
    }
  }
}
