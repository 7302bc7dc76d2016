/**
 * The upstreams of one service in the built-in proxy: picking (round-robin or least
 * connections), passive health (consecutive failures eject an upstream for a while), active
 * health (set by the checker), and draining (a removed upstream finishes its in-flight
 * requests and is forgotten). Pure: time comes from the injected clock.
 */
import { createHash } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { Upstream } from './services.ts';

export type Strategy = 'round-robin' | 'least-conn';

const stickyIds = new Map<string, string>();

/** The cookie value naming an upstream: a hash, so the cookie does not reveal internal addresses. */
export function stickyIdOf(address: string): string {
  let id = stickyIds.get(address);
  if (id === undefined) {
    id = createHash('sha256').update(address).digest('base64url').slice(0, 16);
    if (stickyIds.size > 10_000) stickyIds.clear();
    stickyIds.set(address, id);
  }
  return id;
}

/** One upstream's live state. */
export interface Member {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  id: string;
  inflight: number;
  /** Requests answered (any status). */
  served: number;
  /** Active health verdict (true until a checker says otherwise). */
  healthy: boolean;
  consecutiveFailures: number;
  /** Passive ejection: not picked before this time (ms). */
  ejectedUntil: number;
  /** Removed from the store: no new requests, kept until in-flight ones finish. */
  draining: boolean;
  readonly addedAt: number;
}

export interface PoolOptions {
  strategy: Strategy;
  /** Consecutive failures that eject an upstream (passive health). */
  maxFails: number;
  /** How long an ejected upstream sits out before it is tried again. */
  ejectMs: number;
  clock: Clock;
  /** Slow start: a new upstream's share of requests ramps from 0 to full over this time (0 = off). */
  slowStartMs?: number;
  /** Draws in [0, 1) for slow start (a seeded Rand's `float` in tests). */
  random?: () => number;
}

/** An empty exclusion list, shared: a pick on the first attempt allocates nothing. */
export const NO_UPSTREAMS: ReadonlySet<string> = new Set();

export class UpstreamPool {
  private readonly members = new Map<string, Member>();
  /** `members`' values as an array, rebuilt when they change (picks outnumber changes by far). */
  private memberList: Member[] | null = null;
  /** Reused by every pick for its candidates. */
  private readonly candidates: Member[] = [];
  private rr = 0;

  constructor(private readonly opts: PoolOptions) {}

  /** Applies the store's current list; returns what changed. */
  update(upstreams: readonly Upstream[]): { added: string[]; removed: string[] } {
    const next = new Map(upstreams.map((u) => [u.address, u]));
    const added: string[] = [];
    const removed: string[] = [];
    for (const [addr, u] of next) {
      const m = this.members.get(addr);
      if (m && !m.draining) {
        m.id = u.id;
        continue;
      }
      if (m?.draining) {
        m.draining = false; // came back before it drained
        continue;
      }
      this.memberList = null;
      this.members.set(addr, { address: addr, host: u.host.replace(/^\[|\]$/g, ''), port: u.port, id: u.id, inflight: 0, served: 0, healthy: true, consecutiveFailures: 0, ejectedUntil: 0, draining: false, addedAt: this.opts.clock.now() });
      added.push(addr);
    }
    for (const [addr, m] of this.members) {
      if (next.has(addr) || m.draining) continue;
      removed.push(addr);
      if (m.inflight === 0) this.forget(addr);
      else m.draining = true;
    }
    return { added, removed };
  }

  private usable(m: Member, now: number, exclude: ReadonlySet<string>): boolean {
    return !m.draining && m.healthy && m.ejectedUntil <= now && !exclude.has(m.address);
  }

  /**
   * The upstream for the next request, or null when none is healthy. When every healthy
   * upstream is ejected by passive checks, one is tried anyway (better a chance than a 503).
   */
  pick(exclude: ReadonlySet<string> = NO_UPSTREAMS): Member | null {
    const now = this.opts.clock.now();
    const all = (this.memberList ??= [...this.members.values()]);
    let candidates = this.candidates;
    candidates.length = 0;
    for (const m of all) if (this.usable(m, now, exclude)) candidates.push(m);
    if (candidates.length === 0) for (const m of all) if (!m.draining && m.healthy && !exclude.has(m.address)) candidates.push(m);
    if (candidates.length === 0) return null;
    candidates = this.applySlowStart(candidates, now);
    const start = this.rr++ % candidates.length;
    if (this.opts.strategy === 'round-robin') return candidates[start]!;
    let best = candidates[start]!;
    for (let i = 1; i < candidates.length; i++) {
      const m = candidates[(start + i) % candidates.length]!;
      if (m.inflight < best.inflight) best = m;
    }
    return best;
  }

  /**
   * Slow start: an upstream younger than slowStartMs stays a candidate with probability
   * age / slowStartMs, so its share ramps up linearly. Never removes the last candidate.
   */
  private applySlowStart(candidates: Member[], now: number): Member[] {
    const ramp = this.opts.slowStartMs ?? 0;
    if (ramp <= 0 || candidates.length < 2) return candidates;
    const random = this.opts.random ?? Math.random;
    const kept = candidates.filter((m) => now - m.addedAt >= ramp || random() < (now - m.addedAt) / ramp);
    return kept.length > 0 ? kept : candidates;
  }

  private forget(address: string): void {
    this.members.delete(address);
    this.memberList = null;
  }

  begin(m: Member): void {
    m.inflight++;
  }

  /** A request to `m` is over (answered, failed or aborted). */
  end(m: Member): void {
    m.inflight--;
    if (m.draining && m.inflight <= 0 && this.members.get(m.address) === m) this.forget(m.address);
  }

  /** The upstream answered. */
  succeed(m: Member): void {
    m.served++;
    m.consecutiveFailures = 0;
    m.ejectedUntil = 0;
  }

  /** Could not connect, or the connection broke: passive health. */
  fail(m: Member): void {
    m.consecutiveFailures++;
    if (m.consecutiveFailures >= this.opts.maxFails) m.ejectedUntil = this.opts.clock.now() + this.opts.ejectMs;
  }

  /** The usable upstream whose sticky id is `stickyId` (sticky sessions), or null. */
  pickSticky(stickyId: string, exclude: ReadonlySet<string> = NO_UPSTREAMS): Member | null {
    const now = this.opts.clock.now();
    for (const m of this.members.values()) if (stickyIdOf(m.address) === stickyId && this.usable(m, now, exclude)) return m;
    return null;
  }

  /** The checker's verdict on `address`. */
  setHealthy(address: string, healthy: boolean): void {
    const m = this.members.get(address);
    if (m) m.healthy = healthy;
  }

  list(): Member[] {
    return [...this.members.values()];
  }

  /** Upstreams that would take a request now. */
  healthyCount(): number {
    const now = this.opts.clock.now();
    return this.list().filter((m) => this.usable(m, now, NO_UPSTREAMS)).length;
  }
}
