import type { Rand } from '../lib/rand.ts';
import type { BerthCluster } from './berth-cluster.ts';

/** The faults the container nemesis injects, one at a time, each healed before the next. */
export const FAULT_KINDS = ['kill', 'kill-leader', 'kill-majority', 'kill-all', 'pause', 'pause-leader', 'partition-majority-minority', 'partition-no-majority', 'partition-bridge', 'isolate-leader'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault in force: what was done, to whom. */
export interface InjectedFault {
  kind: FaultKind;
  /** e.g. `kill [1]`, `partition [0,3] vs [1,2,4]`, `bridge 2 between [0,1] and [3,4]`. */
  description: string;
  /** The leader before the fault (for leader faults: the member it hit). */
  leaderBefore: number;
  /** Date.now() just before the fault was applied. */
  at: number;
}

function minoritySize(n: number): number {
  return Math.floor((n - 1) / 2);
}

/**
 * Injects one fault of `kind`. Most take at most a minority down, so a majority keeps serving;
 * `kill-majority`, `kill-all` and `partition-no-majority` leave no majority at all, so after the heal the
 * cluster must elect a leader from scratch (and keep every acknowledged write).
 */
export async function injectFault(cluster: BerthCluster, rand: Rand, kind: FaultKind): Promise<InjectedFault> {
  const leader = await cluster.waitForLeader(10_000);
  const all = cluster.members.filter((m) => !m.removed).map((m) => m.index);
  const minority = () => rand.shuffle([...all]).slice(0, rand.range(1, minoritySize(all.length)));
  const fmt = (xs: number[]) => `[${[...xs].sort((a, b) => a - b).join(',')}]`;
  const at = Date.now();
  switch (kind) {
    case 'kill': {
      const victims = minority();
      for (const v of victims) await cluster.kill(v);
      return { kind, description: `kill ${fmt(victims)}`, leaderBefore: leader, at };
    }
    case 'kill-leader':
      await cluster.kill(leader);
      return { kind, description: `kill leader ${leader}`, leaderBefore: leader, at };
    case 'kill-majority': {
      const victims = rand.shuffle([...all]).slice(0, Math.floor(all.length / 2) + 1);
      await Promise.all(victims.map((v) => cluster.kill(v)));
      return { kind, description: `kill majority ${fmt(victims)}`, leaderBefore: leader, at };
    }
    case 'kill-all':
      // A power cut: only what reached the disk (fsync before every acknowledgement) survives.
      await Promise.all(all.map((v) => cluster.kill(v)));
      return { kind, description: `kill all ${fmt(all)}`, leaderBefore: leader, at };
    case 'pause': {
      const victims = minority();
      for (const v of victims) await cluster.pause(v);
      return { kind, description: `pause ${fmt(victims)}`, leaderBefore: leader, at };
    }
    case 'pause-leader':
      await cluster.pause(leader);
      return { kind, description: `pause leader ${leader}`, leaderBefore: leader, at };
    case 'partition-majority-minority': {
      const small = minority();
      const big = all.filter((i) => !small.includes(i));
      await cluster.partition(small, big);
      return { kind, description: `partition ${fmt(small)} vs ${fmt(big)}`, leaderBefore: leader, at };
    }
    case 'partition-no-majority': {
      const shuffled = rand.shuffle([...all]);
      const size = Math.max(1, minoritySize(all.length));
      const groups: number[][] = [];
      for (let k = 0; k < shuffled.length; k += size) groups.push(shuffled.slice(k, k + size));
      await cluster.partition(...groups);
      return { kind, description: `partition ${groups.map(fmt).join(' vs ')}`, leaderBefore: leader, at };
    }
    case 'partition-bridge': {
      // Jepsen's bridge: two halves that only the bridge member can talk to both of.
      const [bridge, ...rest] = rand.shuffle([...all]);
      const half = Math.floor(rest.length / 2);
      const left = rest.slice(0, half);
      const right = rest.slice(half);
      await cluster.partition(left, right);
      return { kind, description: `bridge ${bridge} between ${fmt(left)} and ${fmt(right)}`, leaderBefore: leader, at };
    }
    case 'isolate-leader':
      await cluster.isolate(leader);
      return { kind, description: `isolate leader ${leader}`, leaderBefore: leader, at };
  }
}

/** True when the fault should make the majority elect someone else. */
export function deposesLeader(kind: FaultKind): boolean {
  return kind === 'kill-leader' || kind === 'pause-leader' || kind === 'isolate-leader';
}

/** What one round measured. */
export interface RoundResult {
  fault: InjectedFault;
  /** Leader faults: ms from the fault until a majority followed another member (null: not within FAILOVER_LIMIT_MS). */
  failoverMs: number | null;
  /** Writes acknowledged while the fault was in force. */
  ackedDuringFault: number;
  /** ms that heal took (restarting killed members dominates). */
  healMs: number;
  /** ms from the end of the heal until a leader followed by a majority. */
  recoveryMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a leader fault may take to produce a new leader before the round gives up waiting. */
export const FAILOVER_LIMIT_MS = 10_000;

/**
 * One nemesis round: inject `kind`, hold it for `holdMs` (watching for a new leader), heal
 * everything, and time how long the cluster takes to have a leader a majority follows.
 * `ackedSoFar` reads a live count of acknowledged writes.
 */
export async function runRound(cluster: BerthCluster, rand: Rand, kind: FaultKind, holdMs: number, ackedSoFar: () => number): Promise<RoundResult> {
  const ackedBefore = ackedSoFar();
  const fault = await injectFault(cluster, rand, kind);
  const injectedAt = fault.at;
  let failoverMs: number | null = null;
  // A leader fault is held until someone took over (up to FAILOVER_LIMIT_MS), so the failover is measured, not cut short.
  const waitingForFailover = () => deposesLeader(kind) && failoverMs === null && Date.now() - injectedAt < FAILOVER_LIMIT_MS;
  while (Date.now() - injectedAt < holdMs || waitingForFailover()) {
    if (deposesLeader(kind) && failoverMs === null) {
      const l = await cluster.leader();
      if (l !== null && l !== fault.leaderBefore) failoverMs = Date.now() - injectedAt;
    }
    await sleep(50);
  }
  const ackedDuringFault = ackedSoFar() - ackedBefore;
  const healStart = Date.now();
  await cluster.healAll();
  const healedAt = Date.now();
  await cluster.waitForLeader(30_000, 20);
  return { fault, failoverMs, ackedDuringFault, healMs: healedAt - healStart, recoveryMs: Date.now() - healedAt };
}
