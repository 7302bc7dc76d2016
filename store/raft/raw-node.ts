/**
 * RawNode: the driver's handle on the pure core (etcd-io/raft's RawNode).
 *
 *   const storage = new MemoryStorage();
 *   storage.setConfState({ voters: [1, 2, 3], learners: [] });   // a brand-new cluster
 *   const node = new RawNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, ... });
 *   // loop: node.tick() on a timer; node.step(msg) for peer messages; node.propose(data);
 *   //       while (node.hasReady()) { const rd = node.ready(); persist; send; apply; node.advance(rd); }
 */
import { BerthError } from '../../lib/errors.ts';
import { Raft, message } from './raft.ts';
import {
  EntryType,
  MessageType,
  StateType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProgressView,
  type RaftConfig,
  type RaftStatus,
  type RawNodeApi,
  type Ready,
  type SoftState,
} from './types.ts';

/** A proposal that cannot be accepted now (no known leader, or leadership is moving). */
export class ProposalDroppedError extends BerthError {
  constructor(why: string) {
    super('BERTH_RAFT_PROPOSAL_DROPPED', `raft proposal dropped: ${why}`);
  }
}

const sameHardState = (a: HardState, b: HardState) => a.term === b.term && a.vote === b.vote && a.commit === b.commit;

export class RawNode implements RawNodeApi {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  /**
   * Proposals not yet stepped. Consecutive ones go into raft as one MsgProp, stepped before
   * anything else touches it, so their order against every other input is kept; one proposal
   * per step meant, on a leader, an append, a commit check and an append message per follower
   * for each write.
   */
  private proposed: Entry[] = [];
  /** See holdApplies. */
  private appliesHeld = false;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, raftState: this.raft.state };
  }

  tick(): void {
    this.flushProposals();
    this.raft.tick();
  }

  campaign(): void {
    this.stepLocal(message(MessageType.MsgHup, this.raft.id, { from: this.raft.id }));
  }

  /** Steps a message the driver makes (not one from a peer), after the held proposals. */
  private stepLocal(m: Message): void {
    this.flushProposals();
    this.raft.step(m);
  }

  private checkCanPropose(): void {
    const r = this.raft;
    if (r.state === StateType.Leader && r.leadTransferee !== 0) throw new ProposalDroppedError('leadership is being transferred');
    if (r.state !== StateType.Leader && r.lead === 0) throw new ProposalDroppedError('no leader is known');
  }

  /**
   * Takes `data` for the log, or throws ProposalDroppedError when raft would drop it. It is held
   * until the next step, tick, conf change or Ready (see `proposed`); raft's state changes only
   * through those, so when it is stepped raft takes it as it would have when it was proposed.
   */
  propose(data: Uint8Array): void {
    this.checkCanPropose();
    this.proposed.push({ term: 0, index: 0, type: EntryType.Normal, data });
  }

  private flushProposals(): void {
    if (this.proposed.length === 0) return;
    const entries = this.proposed;
    this.proposed = [];
    this.raft.step(message(MessageType.MsgProp, this.raft.id, { from: this.raft.id, entries }));
  }

  proposeConfChange(cc: ConfChange): void {
    this.checkCanPropose();
    const data = new TextEncoder().encode(JSON.stringify(cc));
    this.stepLocal(message(MessageType.MsgProp, this.raft.id, { from: this.raft.id, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data }] }));
  }

  applyConfChange(cc: ConfChange): ConfState {
    this.flushProposals();
    return this.raft.applyConfChange(cc);
  }

  step(m: Message): void {
    this.flushProposals();
    // Local message types never come from the network.
    if (m.type === MessageType.MsgHup || m.type === MessageType.MsgBeat || m.type === MessageType.MsgCheckQuorum || m.type === MessageType.MsgPeerDown) return;
    if ((m.type === MessageType.MsgUnreachable || m.type === MessageType.MsgSnapStatus) && m.from === 0) return;
    if (!this.raft.prs.has(m.from) && (m.type === MessageType.MsgAppResp || m.type === MessageType.MsgHeartbeatResp)) return;
    this.raft.step(m);
  }

  readIndex(ctx: Uint8Array): void {
    this.stepLocal(message(MessageType.MsgReadIndex, this.raft.id, { entries: [{ term: 0, index: 0, type: EntryType.Normal, data: ctx }] }));
  }

  transferLeader(to: NodeId): void {
    this.stepLocal(message(MessageType.MsgTransferLeader, this.raft.id, { from: to }));
  }

  reportUnreachable(id: NodeId): void {
    this.stepLocal(message(MessageType.MsgUnreachable, this.raft.id, { from: id }));
  }

  /** The driver saw peer `id`'s process gone: a follower of it campaigns soon (see Raft.handlePeerDown). */
  reportPeerDown(id: NodeId): void {
    this.stepLocal(message(MessageType.MsgPeerDown, this.raft.id, { from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.stepLocal(message(MessageType.MsgSnapStatus, this.raft.id, { from: id, reject: !ok }));
  }

  /**
   * While held, Readies carry no committed entries: raft goes on persisting, replicating,
   * committing and sending heartbeats, and what commits meanwhile comes in the first Ready
   * after the hold ends. A driver holds applies while it writes a snapshot of its applied state
   * a slice at a time, so the state stays as of the snapshot's index without stopping raft.
   */
  holdApplies(held: boolean): void {
    this.appliesHeld = held;
  }

  hasReady(): boolean {
    this.flushProposals();
    const r = this.raft;
    const soft = this.softState();
    return (
      soft.lead !== this.prevSoft.lead ||
      soft.raftState !== this.prevSoft.raftState ||
      !sameHardState(r.hardState(), this.prevHard) ||
      r.log.unstable.length > 0 ||
      r.log.unstableSnapshot !== undefined ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      (!this.appliesHeld && r.log.hasNextCommitted())
    );
  }

  ready(): Ready {
    this.flushProposals();
    const r = this.raft;
    const soft = this.softState();
    const hard = r.hardState();
    const rd: Ready = {
      readStates: r.readStates,
      entries: [...r.log.unstable],
      committedEntries: this.appliesHeld ? [] : r.log.nextCommitted(),
      messages: r.msgs,
      mustSync: false,
    };
    if (soft.lead !== this.prevSoft.lead || soft.raftState !== this.prevSoft.raftState) {
      rd.softState = soft;
      this.prevSoft = soft;
    }
    if (!sameHardState(hard, this.prevHard)) rd.hardState = hard;
    if (r.log.unstableSnapshot) rd.snapshot = r.log.unstableSnapshot;
    rd.mustSync = rd.entries.length > 0 || (!!rd.hardState && (hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote)) || !!rd.snapshot;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  advance(rd: Ready): void {
    const log = this.raft.log;
    if (rd.hardState) this.prevHard = rd.hardState;
    if (rd.snapshot) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      if (log.applied < rd.snapshot.metadata.index) log.applied = rd.snapshot.metadata.index;
    }
    const lastApplied = rd.committedEntries.at(-1);
    if (lastApplied) log.appliedTo(lastApplied.index);
    const lastStable = rd.entries.at(-1);
    if (lastStable) log.stableTo(lastStable.index, lastStable.term);
  }

  basicStatus(): RaftStatus {
    const r = this.raft;
    return { id: r.id, hardState: r.hardState(), softState: this.softState(), applied: r.log.applied, leadTransferee: r.leadTransferee };
  }

  status(): RaftStatus {
    const r = this.raft;
    const s = this.basicStatus();
    if (r.state === StateType.Leader) {
      const progress = new Map<NodeId, ProgressView>();
      for (const [id, pr] of r.prs) progress.set(id, pr.view());
      s.progress = progress;
    }
    return s;
  }
}
