/**
 * The mass-removal guard: when more than `maxRemovalPct` % of a service's upstreams vanish in one
 * change, the service keeps its previous upstreams for `graceMs` before the removal is applied,
 * so a store hiccup (a lost lease, an emptied directory) cannot empty a load balancer at once.
 * Pure: time comes in as `now`.
 */
import type { Upstream } from './services.ts';

export interface GuardDecision {
  /** The upstreams to use now, per service dir. */
  readonly upstreams: ReadonlyMap<string, readonly Upstream[]>;
  /** Services whose removal is being held back. */
  readonly held: readonly string[];
  /** When to evaluate again (earliest end of a grace period), or null. */
  readonly recheckAt: number | null;
}

export class RemovalGuard {
  private applied = new Map<string, readonly Upstream[]>();
  private readonly heldSince = new Map<string, number>();

  constructor(
    private readonly maxRemovalPct: number,
    private readonly graceMs: number,
  ) {}

  /** Decides what to apply given the latest view of every service. */
  decide(next: ReadonlyMap<string, readonly Upstream[]>, now: number): GuardDecision {
    const out = new Map<string, readonly Upstream[]>();
    const held: string[] = [];
    let recheckAt: number | null = null;
    const names = new Set([...this.applied.keys(), ...next.keys()]);
    for (const name of names) {
      const before = this.applied.get(name) ?? [];
      const after = next.get(name) ?? [];
      const afterSet = new Set(after.map((u) => u.address));
      const removed = before.filter((u) => !afterSet.has(u.address)).length;
      const tooMany = before.length > 0 && this.maxRemovalPct < 100 && (removed * 100) / before.length > this.maxRemovalPct;
      if (!tooMany) {
        this.heldSince.delete(name);
        if (after.length > 0) out.set(name, after);
        continue;
      }
      const since = this.heldSince.get(name) ?? now;
      this.heldSince.set(name, since);
      if (now - since >= this.graceMs) {
        this.heldSince.delete(name);
        if (after.length > 0) out.set(name, after);
        continue;
      }
      // Keep what we had, plus anything new that appeared meanwhile.
      const keep = [...before, ...after.filter((u) => !before.some((b) => b.address === u.address))];
      out.set(name, keep);
      held.push(name);
      recheckAt = Math.min(recheckAt ?? Infinity, since + this.graceMs);
    }
    this.applied = out;
    return { upstreams: out, held, recheckAt };
  }
}

/**
 * The key view a template should see: `keys` with each held service directory's upstream keys
 * put back to what the guard keeps.
 */
export function guardedKeys(keys: ReadonlyMap<string, string>, decision: GuardDecision): ReadonlyMap<string, string> {
  if (decision.held.length === 0) return keys;
  const out = new Map(keys);
  for (const dir of decision.held) {
    for (const k of [...out.keys()]) if (k.startsWith(dir + '/') && !k.slice(dir.length + 1).includes('/')) out.delete(k);
    for (const u of decision.upstreams.get(dir) ?? []) out.set(`${dir}/${u.id}`, u.address);
  }
  return out;
}
