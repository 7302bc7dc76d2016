import type { Rand } from '../../lib/rand.ts';
import { byPeer, coalesceMessages } from '../raft/coalesce.ts';
import { MessageType, type Message, type NodeId } from '../raft/types.ts';

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  /** Extra delivery delay in steps, uniformly 0..maxDelay (reorders messages). */
  maxDelay: number;
}

interface InFlight {
  at: number;
  seq: number;
  msg: Message;
}

/** A lossy, reordering, partitionable network in simulated steps. */
export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  private readonly cut = new Set<string>();
  delivered = 0;
  dropped = 0;
  /** The sender's transport learns whether a snapshot arrived (etcd's MsgSnapStatus). */
  onSnapshotOutcome: (m: Message, ok: boolean) => void = () => {};

  constructor(
    private readonly rand: Rand,
    public faults: NetworkFaults,
  ) {}

  private static link(a: NodeId, b: NodeId): string {
    return `${a}>${b}`;
  }

  /** Cuts every link between the groups (both directions). */
  partition(groups: NodeId[][]): void {
    this.cut.clear();
    for (const [i, g] of groups.entries()) {
      for (const [j, h] of groups.entries()) {
        if (i === j) continue;
        for (const a of g) for (const b of h) this.cut.add(SimNetwork.link(a, b));
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  isCut(a: NodeId, b: NodeId): boolean {
    return this.cut.has(SimNetwork.link(a, b));
  }

  send(now: number, msgs: Message[]): void {
    for (const m of coalescePerPeer(msgs)) {
      if (this.rand.chance(this.faults.dropRate)) {
        this.dropped++;
        if (m.type === MessageType.MsgSnap) this.onSnapshotOutcome(m, false);
        continue;
      }
      const copies = this.rand.chance(this.faults.duplicateRate) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        this.queue.push({ at: now + 1 + this.rand.int(this.faults.maxDelay + 1), seq: this.seq++, msg: structuredClone(m) });
      }
    }
  }

  /** Messages due at `now`, in (time, send order); partitioned ones are lost. */
  due(now: number): Message[] {
    const ready = this.queue.filter((f) => f.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.queue = this.queue.filter((f) => f.at > now);
    const out: Message[] = [];
    for (const f of ready) {
      if (this.isCut(f.msg.from, f.msg.to)) {
        this.dropped++;
        if (f.msg.type === MessageType.MsgSnap) this.onSnapshotOutcome(f.msg, false);
        continue;
      }
      if (f.msg.type === MessageType.MsgSnap) this.onSnapshotOutcome(f.msg, true);
      this.delivered++;
      out.push(f.msg);
    }
    return out;
  }

  clear(): void {
    this.queue = [];
  }
}

/** What the TCP transport does with one send(): each peer's messages coalesced, order kept per peer. */
function coalescePerPeer(msgs: Message[]): Message[] {
  return [...byPeer(msgs).values()].flatMap((list) => coalesceMessages(list));
}
