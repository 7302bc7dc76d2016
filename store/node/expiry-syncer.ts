/**
 * The leader's side of TTL expiry: it proposes its clock (a `sync` command) so every member
 * expires the same keys at the same index. etcd proposes one every 500 ms, so a key outlives its
 * TTL by up to half a second; here a timer is also armed for the earliest deadline in the
 * keyspace, so keys expire on time (an election's takeover, a registrator's dead container).
 */
import type { Logger } from '../../lib/log.ts';

export interface ExpirySyncerDeps {
  isLeader(): boolean;
  /** The earliest expireAtMs in the keyspace, or null when no key has a TTL. */
  nextExpiryMs(): number | null;
  /** Proposes the clock `nowMs`; settles once applied. */
  proposeSync(nowMs: number): Promise<unknown>;
  logger: Logger;
}

/** The safety net, as etcd's: also catches a deadline armed by a previous leader. */
const SYNC_EVERY_MS = 500;
/** Keys with nearby deadlines share one sync rather than each paying for a proposal. */
const MIN_GAP_MS = 50;

export class ExpirySyncer {
  private interval: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private inFlight = false;
  private lastSyncMs = -Infinity;

  constructor(private readonly deps: ExpirySyncerDeps) {}

  start(): void {
    this.interval = setInterval(() => this.maybeSync(), SYNC_EVERY_MS);
  }

  stop(): void {
    if (this.interval) clearInterval(this.interval);
    if (this.timer) clearTimeout(this.timer);
    this.interval = this.timer = null;
    this.timerAt = Infinity;
  }

  /** Entries were applied (TTLs may have been set or removed): re-arm for the earliest deadline. */
  keysChanged(): void {
    if (!this.interval || !this.deps.isLeader()) return;
    const next = this.deps.nextExpiryMs();
    if (next === null) return;
    const at = Math.max(next + 1, this.lastSyncMs + MIN_GAP_MS);
    if (at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      // A sync under way re-arms when it settles; otherwise (early, or nothing due) re-arm now.
      if (!this.maybeSync()) this.keysChanged();
    }, Math.max(0, at - Date.now()));
  }

  /** Proposes a sync when a deadline has passed; true while one is under way. */
  private maybeSync(): boolean {
    if (!this.deps.isLeader()) return false;
    if (this.inFlight) return true;
    const next = this.deps.nextExpiryMs();
    const now = Date.now();
    if (next === null || next > now) return false;
    this.inFlight = true;
    this.lastSyncMs = now;
    this.deps
      .proposeSync(now)
      .catch((e: unknown) => this.deps.logger.warn({ err: String(e) }, 'expiry sync failed'))
      .finally(() => {
        this.inFlight = false;
        this.keysChanged();
      });
    return true;
  }
}
