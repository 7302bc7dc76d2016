import { Rand } from '../../lib/rand.ts';
import { MemoryStorage } from '../raft/memory-storage.ts';
import { StateType, type NodeId } from '../raft/types.ts';
import { InvariantViolation, SafetyChecker } from './invariants.ts';
import { SimNetwork } from './network.ts';
import { SimNode, type HoldReadies } from './sim-node.ts';

export interface SimOptions {
  nodes: number;
  steps: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Whose Ready writes may stay in flight while they step new messages (default none). */
  holdReadies?: HoldReadies;
  /** Snapshots are written over a few pump rounds with applies held, as StoreNode writes them. */
  snapshotsHoldApplies?: boolean;
}

export interface SimResult {
  seed: number;
  committed: number;
  leadersSeen: number;
  crashes: number;
  partitions: number;
  delivered: number;
  dropped: number;
}

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly step: number,
    cause: Error,
  ) {
    super(`seed ${seed}, step ${step}: ${cause.message}\nreplay: SEED=${seed} SIM_SEEDS=1 npm test -- store/sim`, { cause });
  }
}

const ELECTION_TICK = 10;

/**
 * One seeded run: ticks, client proposals, a faulty network (drops, duplicates, delays,
 * partitions), crashes with restarts from disk, and compaction; safety checked after every
 * step; then the faults stop and the cluster must elect a leader and commit again.
 */
export function simulate(seed: number, opts: SimOptions): SimResult {
  const rand = new Rand(seed);
  const ids: NodeId[] = Array.from({ length: opts.nodes }, (_, i) => i + 1);
  const net = new SimNetwork(rand.fork(), { dropRate: rand.float() * 0.15, duplicateRate: rand.float() * 0.05, maxDelay: rand.int(4) });
  const holdChance = rand.float() * 0.6;
  const nodes = ids.map((id) => {
    const disk = new MemoryStorage();
    disk.setConfState({ voters: ids, learners: [] });
    return new SimNode(id, disk, rand.fork(), { preVote: opts.preVote, checkQuorum: opts.checkQuorum, electionTick: ELECTION_TICK, holdReadies: opts.holdReadies ?? 'none', holdChance, snapshotsHoldApplies: opts.snapshotsHoldApplies ?? false });
  });
  net.onSnapshotOutcome = (m, ok) => {
    const from = nodes[m.from - 1];
    if (from?.up) from.raw.reportSnapshot(m.to, ok);
  };
  const checker = new SafetyChecker();
  const leaders = new Set<string>();
  let crashes = 0;
  let partitions = 0;
  let proposals = 0;
  let step = 0;

  const pump = (now: number) => {
    for (const m of net.due(now)) {
      const to = nodes[m.to - 1];
      if (to?.up) to.raw.step(m);
    }
    for (const n of nodes) if (n.up) net.send(now, n.drain((node, e) => checker.onCommitted(node, e)));
  };

  const observe = () => {
    checker.check(nodes);
    for (const n of nodes) {
      const st = n.raw.status();
      if (n.up && st.softState.raftState === StateType.Leader) leaders.add(`${st.hardState.term}:${n.id}`);
    }
  };

  try {
    for (; step < opts.steps; step++) {
      for (const n of nodes) if (n.up) n.raw.tick();
      if (rand.chance(0.3)) {
        const n = rand.pick(nodes);
        if (n.up) n.propose(`p${proposals++}`);
      }
      if (rand.chance(0.01)) {
        const n = rand.pick(nodes);
        if (n.up && nodes.filter((x) => !x.up).length < Math.floor(opts.nodes / 2)) {
          n.up = false;
          crashes++;
        }
      }
      for (const n of nodes) if (!n.up && rand.chance(0.05)) n.restart();
      if (rand.chance(0.01)) {
        const shuffled = rand.shuffle([...ids]);
        const cut = 1 + rand.int(opts.nodes - 1);
        net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        partitions++;
      }
      if (rand.chance(0.02)) net.heal();
      if (rand.chance(0.02)) rand.pick(nodes).compact(rand.int(5));
      // Several message rounds per tick so a round trip fits inside an election timeout.
      for (let r = 0; r < 3; r++) pump(step * 3 + r);
      observe();
    }
    // Liveness: no more faults; a leader must emerge and commit a new proposal everywhere.
    net.heal();
    net.faults = { dropRate: 0, duplicateRate: 0, maxDelay: 0 };
    for (const n of nodes) if (!n.up) n.restart();
    const marker = `final-${seed}`;
    let proposed = false;
    for (let extra = 0; extra < 40 * ELECTION_TICK; extra++, step++) {
      for (const n of nodes) n.raw.tick();
      const leader = nodes.find((n) => n.raw.status().softState.raftState === StateType.Leader);
      // A proposal can die with its leader's term: propose again now and then until it commits.
      if (leader && (!proposed || extra % (2 * ELECTION_TICK) === 0)) proposed = leader.propose(marker) || proposed;
      for (let r = 0; r < 3; r++) pump(step * 3 + r);
      observe();
      if (proposed && nodes.every((n) => n.applied.some((a) => a.data === marker))) {
        return { seed, committed: checker.committedCount(), leadersSeen: leaders.size, crashes, partitions, delivered: net.delivered, dropped: net.dropped };
      }
    }
    if (process.env.SIM_DEBUG) for (const n of nodes) console.log(n.id, n.up, JSON.stringify(n.raw.status(), (k, v) => (v instanceof Map ? Object.fromEntries(v) : v)), 'first', n.disk.firstIndex(), 'last', n.raw.raft.log.lastIndex(), 'applied', n.appliedIndex);
    throw new InvariantViolation(`no progress after healing: leader ${nodes.find((n) => n.raw.status().softState.raftState === StateType.Leader)?.id ?? 'none'}, marker applied on ${nodes.filter((n) => n.applied.some((a) => a.data === marker)).map((n) => n.id).join(',') || 'no node'}`);
  } catch (e) {
    throw new SimulationFailure(seed, step, e as Error);
  }
}
