import { silentLogger } from '../../lib/log.ts';
import { Rand } from '../../lib/rand.ts';
import { MemoryStorage } from './memory-storage.ts';
import { RawNode } from './raw-node.ts';
import { StateType, type Message, type NodeId } from './types.ts';

/**
 * A deterministic in-memory cluster for raft rule tests: messages are delivered only when the
 * test says so, and links can be cut.
 */
export class RaftHarness {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  readonly applied = new Map<NodeId, string[]>();
  /** ReadIndex answers per node, as Ready handed them out. */
  readonly reads = new Map<NodeId, { index: number; ctx: string }[]>();
  private readonly cut = new Set<string>();
  /** Messages produced and not yet delivered (tests may inspect or drop them). */
  pending: Message[] = [];

  constructor(
    ids: NodeId[],
    opts: { preVote?: boolean; checkQuorum?: boolean; electionTick?: number; learners?: NodeId[]; seed?: number } = {},
  ) {
    const rand = new Rand(opts.seed ?? 1);
    for (const id of [...ids, ...(opts.learners ?? [])]) {
      const s = new MemoryStorage();
      s.setConfState({ voters: ids, learners: opts.learners ?? [] });
      this.storages.set(id, s);
      this.applied.set(id, []);
      this.nodes.set(id, new RawNode({ id, electionTick: opts.electionTick ?? 10, heartbeatTick: 1, storage: s, applied: 0, maxSizePerMsg: 1 << 20, maxInflightMsgs: 256, checkQuorum: opts.checkQuorum ?? false, preVote: opts.preVote ?? false, rand: rand.fork(), logger: silentLogger }));
    }
  }

  node(id: NodeId): RawNode {
    return this.nodes.get(id)!;
  }

  isolate(id: NodeId): void {
    this.partition([id], [...this.nodes.keys()].filter((other) => other !== id));
  }

  /** Cuts every link between members of different groups. */
  partition(...groups: NodeId[][]): void {
    for (const [i, a] of groups.entries()) {
      for (const b of groups.slice(i + 1)) {
        for (const x of a) {
          for (const y of b) {
            this.cut.add(`${x}>${y}`);
            this.cut.add(`${y}>${x}`);
          }
        }
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  /** Persists and applies every Ready, collecting messages into `pending`. */
  collect(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const rd = n.ready();
        const s = this.storages.get(id)!;
        if (rd.snapshot) s.applySnapshot(rd.snapshot);
        s.append(rd.entries);
        if (rd.hardState) s.setHardState(rd.hardState);
        this.pending.push(...rd.messages);
        for (const rs of rd.readStates) this.reads.set(id, [...(this.reads.get(id) ?? []), { index: rs.index, ctx: new TextDecoder().decode(rs.requestCtx) }]);
        for (const e of rd.committedEntries) if (e.data.length > 0 && e.type === 0) this.applied.get(id)!.push(new TextDecoder().decode(e.data));
        n.advance(rd);
      }
    }
  }

  /** Delivers messages until none are left (respecting cut links). */
  settle(maxRounds = 100): void {
    for (let r = 0; r < maxRounds; r++) {
      this.collect();
      if (this.pending.length === 0) return;
      const batch = this.pending;
      this.pending = [];
      for (const m of batch) {
        if (this.cut.has(`${m.from}>${m.to}`)) continue;
        this.nodes.get(m.to)?.step(m);
      }
    }
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
  }

  elect(id: NodeId): void {
    this.node(id).campaign();
    this.settle();
  }

  leader(): NodeId | null {
    for (const [id, n] of this.nodes) if (n.status().softState.raftState === StateType.Leader) return id;
    return null;
  }

  state(id: NodeId): StateType {
    return this.node(id).status().softState.raftState;
  }

  term(id: NodeId): number {
    return this.node(id).status().hardState.term;
  }

  propose(id: NodeId, data: string): void {
    this.node(id).propose(new TextEncoder().encode(data));
    this.settle();
  }
}
