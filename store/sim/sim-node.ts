import { silentLogger } from '../../lib/log.ts';
import type { Rand } from '../../lib/rand.ts';
import { MemoryStorage } from '../raft/memory-storage.ts';
import { RawNode } from '../raft/raw-node.ts';
import { splitReady } from '../node/ready-split.ts';
import { EntryType, StateType, type ConfChange, type Entry, type Message, type NodeId, type Ready, type Snapshot } from '../raft/types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Which members may leave a Ready's write in flight while they step new messages. */
export type HoldReadies = 'none' | 'leader' | 'any';

interface InFlightReady {
  rd: Ready;
  /** Messages sent once the write completes. */
  late: Message[];
  /** Committed entries applied once the write completes. */
  pending: Entry[];
}

/**
 * One simulated member: a RawNode over a MemoryStorage that plays the disk (what was persisted
 * survives a crash; everything else is lost). The state machine is the list of applied
 * payloads, so members can be compared entry by entry.
 */
export class SimNode {
  raw: RawNode;
  /** Applied (index, payload) pairs, in order; a snapshot replaces the prefix. */
  applied: { index: number; data: string }[] = [];
  appliedIndex = 0;
  up = true;
  /** A Ready whose write has not completed (see drain). */
  private inFlight: InFlightReady | null = null;
  /** A snapshot being written with applies held (see compact): the pump rounds it has left. */
  private writing: { rounds: number; keepBehind: number } | null = null;

  constructor(
    readonly id: NodeId,
    readonly disk: MemoryStorage,
    private readonly rand: Rand,
    private readonly opts: { preVote: boolean; checkQuorum: boolean; electionTick: number; holdReadies: HoldReadies; holdChance: number; snapshotsHoldApplies: boolean },
  ) {
    this.raw = this.boot();
  }

  private boot(): RawNode {
    const snap = this.disk.snapshot();
    if (snap.metadata.index > 0) this.restoreSnapshot(snap);
    return new RawNode({
      id: this.id,
      electionTick: this.opts.electionTick,
      heartbeatTick: 1,
      storage: this.disk,
      applied: snap.metadata.index,
      maxSizePerMsg: 4096,
      maxInflightMsgs: 8,
      checkQuorum: this.opts.checkQuorum,
      preVote: this.opts.preVote,
      rand: this.rand,
      logger: silentLogger,
    });
  }

  /** Loses everything not on disk, then starts again from it. */
  restart(): void {
    this.inFlight = null;
    this.writing = null;
    this.applied = [];
    this.appliedIndex = 0;
    this.raw = this.boot();
    this.up = true;
  }

  private restoreSnapshot(s: Snapshot): void {
    this.applied = JSON.parse(dec.decode(s.data)) as { index: number; data: string }[];
    this.appliedIndex = s.metadata.index;
  }

  /**
   * Handles pending Readies the way StoreNode does: a snapshot first, then (a leader) its
   * replication messages before the write, committed entries already on disk applied, the
   * write, the other messages, the rest of the committed entries, advance (see splitReady).
   * With `holdChance` a Ready's write stays in flight across later pump rounds, and messages
   * delivered meanwhile are stepped, as StoreNode steps them during a background write; a crash
   * loses it.
   */
  drain(onCommitted: (node: SimNode, e: Entry) => void): Message[] {
    const out: Message[] = [];
    if (this.writing && --this.writing.rounds <= 0) {
      // Like StoreNode's, it may finish while a Ready's write is in flight.
      this.cutSnapshot(this.writing.keepBehind);
      this.endWriting();
    }
    if (this.inFlight) {
      // A held write completes at each later pump round with even odds.
      if (!this.rand.chance(0.5)) return out;
      this.finish(this.inFlight, onCommitted, out);
    }
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      if (rd.snapshot) {
        // The leader's snapshot replaces the state ours was being written from.
        this.endWriting();
        this.disk.applySnapshot(rd.snapshot);
        this.restoreSnapshot(rd.snapshot);
      }
      const leader = this.raw.raft.state === StateType.Leader;
      const { early, late, durable, pending } = splitReady(rd, leader);
      out.push(...early);
      for (const e of durable) this.apply(e, onCommitted);
      const flight: InFlightReady = { rd, late, pending };
      const mayHold = this.opts.holdReadies === 'any' || (this.opts.holdReadies === 'leader' && leader);
      if (mayHold && this.rand.chance(this.opts.holdChance)) {
        this.inFlight = flight;
        return out;
      }
      this.finish(flight, onCommitted, out);
    }
    return out;
  }

  /** The Ready's write completed: it reaches the disk, its other messages go, the rest applies. */
  private finish(f: InFlightReady, onCommitted: (node: SimNode, e: Entry) => void, out: Message[]): void {
    this.inFlight = null;
    this.disk.append(f.rd.entries);
    if (f.rd.hardState) this.disk.setHardState(f.rd.hardState);
    out.push(...f.late);
    for (const e of f.pending) this.apply(e, onCommitted);
    this.raw.advance(f.rd);
  }

  private apply(e: Entry, onCommitted: (node: SimNode, e: Entry) => void): void {
    onCommitted(this, e);
    this.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      this.raw.applyConfChange(JSON.parse(dec.decode(e.data)) as ConfChange);
    } else if (e.data.length > 0) {
      this.applied.push({ index: e.index, data: dec.decode(e.data) });
    }
  }

  propose(payload: string): boolean {
    try {
      this.raw.propose(enc.encode(payload));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Snapshot of the applied state and compaction of the disk log behind it. StoreNode starts one
   * between Readies, never while a write is in flight; with `snapshotsHoldApplies` it is written
   * over the next few pump rounds with applies held, raft going on meanwhile.
   */
  compact(keepBehind: number): void {
    if (this.inFlight || this.writing || this.appliedIndex <= this.disk.snapshot().metadata.index + 1) return;
    if (this.opts.snapshotsHoldApplies) {
      this.raw.holdApplies(true);
      this.writing = { rounds: 1 + this.rand.int(6), keepBehind };
      return;
    }
    this.cutSnapshot(keepBehind);
  }

  /** The snapshot being written is cut or dropped: applies go on. */
  private endWriting(): void {
    if (!this.writing) return;
    this.writing = null;
    this.raw.holdApplies(false);
  }

  private cutSnapshot(keepBehind: number): void {
    const cs = this.raw.raft.confState();
    this.disk.createSnapshot(this.appliedIndex, cs, enc.encode(JSON.stringify(this.applied)));
    const to = this.appliedIndex - keepBehind;
    if (to > this.disk.firstIndex()) this.disk.compact(to);
  }
}
