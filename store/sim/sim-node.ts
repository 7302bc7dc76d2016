import { silentLogger } from '../../lib/log.ts';
import type { Rand } from '../../lib/rand.ts';
import { MemoryStorage } from '../raft/memory-storage.ts';
import { RawNode } from '../raft/raw-node.ts';
import { EntryType, type ConfChange, type Entry, type Message, type NodeId, type Snapshot } from '../raft/types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

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

  constructor(
    readonly id: NodeId,
    readonly disk: MemoryStorage,
    private readonly rand: Rand,
    private readonly opts: { preVote: boolean; checkQuorum: boolean; electionTick: number },
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
    this.applied = [];
    this.appliedIndex = 0;
    this.raw = this.boot();
    this.up = true;
  }

  private restoreSnapshot(s: Snapshot): void {
    this.applied = JSON.parse(dec.decode(s.data)) as { index: number; data: string }[];
    this.appliedIndex = s.metadata.index;
  }

  /** Handles every pending Ready: persist, then hand out messages, then apply. */
  drain(onCommitted: (node: SimNode, e: Entry) => void): Message[] {
    const out: Message[] = [];
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      if (rd.snapshot) this.disk.applySnapshot(rd.snapshot);
      this.disk.append(rd.entries);
      if (rd.hardState) this.disk.setHardState(rd.hardState);
      out.push(...rd.messages);
      if (rd.snapshot) this.restoreSnapshot(rd.snapshot);
      for (const e of rd.committedEntries) {
        onCommitted(this, e);
        this.appliedIndex = e.index;
        if (e.type === EntryType.ConfChange) {
          this.raw.applyConfChange(JSON.parse(dec.decode(e.data)) as ConfChange);
        } else if (e.data.length > 0) {
          this.applied.push({ index: e.index, data: dec.decode(e.data) });
        }
      }
      this.raw.advance(rd);
    }
    return out;
  }

  propose(payload: string): boolean {
    try {
      this.raw.propose(enc.encode(payload));
      return true;
    } catch {
      return false;
    }
  }

  /** Snapshot of the applied state and compaction of the disk log behind it. */
  compact(keepBehind: number): void {
    if (this.appliedIndex <= this.disk.snapshot().metadata.index + 1) return;
    const cs = this.raw.raft.confState();
    this.disk.createSnapshot(this.appliedIndex, cs, enc.encode(JSON.stringify(this.applied)));
    const to = this.appliedIndex - keepBehind;
    if (to > this.disk.firstIndex()) this.disk.compact(to);
  }
}
