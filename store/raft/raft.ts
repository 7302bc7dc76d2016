import { AssertionFailed } from '../../lib/errors.ts';
import { CompactedError } from './errors.ts';
import { Progress } from './progress.ts';
import { RaftLog } from './raft-log.ts';
import { ReadOnly } from './read-only.ts';
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
  type RaftConfig,
  type ReadState,
  type Snapshot,
} from './types.ts';

const EMPTY = new Uint8Array();
/** Vote requests carrying this context come from a leadership transfer and bypass the lease. */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

function isTransfer(ctx: Uint8Array | undefined): boolean {
  return !!ctx && ctx.length === CAMPAIGN_TRANSFER.length && ctx.every((b, i) => b === CAMPAIGN_TRANSFER[i]);
}

export function message(type: MessageType, to: NodeId, fields: Partial<Message> = {}): Message {
  return { type, from: 0, to, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}

/** After a peer-down report, a follower campaigns within 1..this many ticks. */
const FAST_CAMPAIGN_TICKS = 3;
const isLocal = (t: MessageType) => t === MessageType.MsgHup || t === MessageType.MsgBeat || t === MessageType.MsgUnreachable || t === MessageType.MsgSnapStatus || t === MessageType.MsgCheckQuorum || t === MessageType.MsgPeerDown;
const voteRespFor = (t: MessageType) => (t === MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp);

/**
 * The Raft state machine (etcd-io/raft's design): elections with PreVote and CheckQuorum,
 * pipelined replication with flow control, ReadIndex, leadership transfer, snapshots, learners
 * and single-server membership changes. Pure: messages out go to `msgs`, time is `tick()`.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = 0;
  lead: NodeId = 0;
  state: StateType = StateType.Follower;
  readonly log: RaftLog;
  prs = new Map<NodeId, Progress>();
  private voterIds: NodeId[] = [];
  /** maybeCommit's working array, kept between calls. */
  private readonly matchScratch: number[] = [];
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee: NodeId = 0;
  pendingConfIndex = 0;

  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this term's first commit. */
  private pendingReadIndex: Message[] = [];

  constructor(private readonly cfg: RaftConfig) {
    this.id = cfg.id;
    this.log = new RaftLog(cfg.storage, cfg.maxSizePerMsg);
    const { hardState, confState } = cfg.storage.initialState();
    this.applyConfState(confState);
    if (hardState.term !== 0 || hardState.vote !== 0 || hardState.commit !== 0) this.loadState(hardState);
    if (cfg.applied > 0) this.log.appliedTo(cfg.applied);
    this.becomeFollower(this.term, 0);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new AssertionFailed(`hard state commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    const voters: NodeId[] = [];
    const learners: NodeId[] = [];
    for (const [id, pr] of this.prs) (pr.isLearner ? learners : voters).push(id);
    return { voters: voters.sort((a, b) => a - b), learners: learners.sort((a, b) => a - b) };
  }

  private applyConfState(cs: ConfState): void {
    const old = this.prs;
    this.prs = new Map();
    const next = this.log.lastIndex() + 1;
    for (const id of cs.voters) this.prs.set(id, old.get(id) ?? new Progress(next, false, this.cfg.maxInflightMsgs));
    for (const id of cs.learners) this.prs.set(id, old.get(id) ?? new Progress(next, true, this.cfg.maxInflightMsgs));
    for (const [id, pr] of this.prs) pr.isLearner = cs.learners.includes(id);
    this.voterIds = [...this.prs].filter(([, pr]) => !pr.isLearner).map(([id]) => id);
  }

  /** Only applyConfState changes who votes; maybeCommit asks on every append. */
  private voters(): readonly NodeId[] {
    return this.voterIds;
  }

  private quorum(): number {
    return Math.floor(this.voters().length / 2) + 1;
  }

  /** A voter that can campaign: part of the configuration and not a learner. */
  promotable(): boolean {
    const pr = this.prs.get(this.id);
    return !!pr && !pr.isLearner;
  }

  // ---- role changes --------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTick + this.cfg.rand.int(this.cfg.electionTick);
    this.votes.clear();
    this.leadTransferee = 0;
    this.readOnly.clear();
    this.pendingReadIndex = [];
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.prs) {
      const fresh = new Progress(next, pr.isLearner, this.cfg.maxInflightMsgs);
      if (id === this.id) fresh.match = this.log.lastIndex();
      this.prs.set(id, fresh);
    }
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  private becomePreCandidate(): void {
    if (this.state === StateType.Leader) throw new AssertionFailed('leader cannot become pre-candidate');
    // PreVote changes neither term nor vote: a partitioned node cannot inflate terms.
    this.votes.clear();
    this.lead = 0;
    this.state = StateType.PreCandidate;
  }

  private becomeCandidate(): void {
    if (this.state === StateType.Leader) throw new AssertionFailed('leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  private becomeLeader(): void {
    if (this.state === StateType.Follower) throw new AssertionFailed('follower cannot become leader');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.prs.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively treat unapplied entries as possibly holding a conf change.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of the new term: committing it commits everything before it.
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY }]);
    this.cfg.logger.info({ id: this.id, term: this.term }, 'became leader');
  }

  private campaign(kind: 'pre' | 'real', transfer = false): void {
    if (!this.promotable()) return;
    let voteType: MessageType;
    let term: number;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteType = MessageType.MsgPreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.MsgVote;
      term = this.term;
    }
    if (this.poll(this.id, voteRespFor(voteType), true) === 'won') {
      if (kind === 'pre') this.campaign('real');
      else this.becomeLeader();
      return;
    }
    for (const id of this.voters()) {
      if (id === this.id) continue;
      this.send(message(voteType, id, { term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), context: transfer ? CAMPAIGN_TRANSFER : undefined }));
    }
  }

  private poll(id: NodeId, _t: MessageType, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    let yes = 0;
    let no = 0;
    for (const v of this.voters()) {
      const g = this.votes.get(v);
      if (g === true) yes++;
      else if (g === false) no++;
    }
    const q = this.quorum();
    if (yes >= q) return 'won';
    if (no >= q || this.voters().length - no < q) return 'lost';
    return 'pending';
  }

  // ---- sending -------------------------------------------------------------------------------

  private send(m: Message): void {
    m.from = this.id;
    if (m.type === MessageType.MsgVote || m.type === MessageType.MsgVoteResp || m.type === MessageType.MsgPreVote || m.type === MessageType.MsgPreVoteResp) {
      if (m.term === 0) throw new AssertionFailed(`${m.type} must carry a term`);
    } else if (m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) {
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends entries (or a snapshot) to `to` if its flow control allows. */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let ents: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      ents = this.log.entriesFrom(pr.next, this.cfg.maxSizePerMsg);
    } catch (e) {
      if (!(e instanceof CompactedError)) throw e;
      return this.sendSnapshot(to, pr);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    // message()'s shape, built without its spread: one of these goes out per proposal per follower.
    this.send({ type: MessageType.MsgApp, from: 0, to, term: 0, logTerm: prevTerm, index: prevIndex, entries: ents, commit: this.log.committed, reject: false, rejectHint: 0 });
    pr.sentEntries(ents.length > 0 ? ents[ents.length - 1]!.index : prevIndex, ents.length);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false; // don't ship a snapshot to a node that may be gone
    const snap: Snapshot = this.log.snapshot();
    if (snap.metadata.index === 0) throw new AssertionFailed('need a snapshot but none is available');
    this.send(message(MessageType.MsgSnap, to, { snapshot: snap }));
    pr.becomeSnapshot(snap.metadata.index);
    this.cfg.logger.info({ to, index: snap.metadata.index }, 'sent snapshot to a follower behind the compacted log');
    return true;
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(ctx?: Uint8Array): void {
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to have.
      this.send(message(MessageType.MsgHeartbeat, id, { commit: Math.min(pr.match, this.log.committed), context: ctx }));
    }
  }

  // ---- the leader's log ----------------------------------------------------------------------

  private appendEntries(ents: Entry[]): boolean {
    let li = this.log.lastIndex();
    const stamped = ents.map((e): Entry => ({ term: this.term, index: ++li, type: e.type, data: e.data }));
    this.log.append(stamped);
    this.prs.get(this.id)?.maybeUpdate(this.log.lastIndex());
    this.maybeCommit();
    return true;
  }

  /**
   * Commits the highest index a quorum of voters holds, if it is of the current term. Runs on
   * every proposal and every append answer: the voters' matches are ordered in a kept array by
   * insertion (a handful of voters) rather than mapped and sorted into new ones.
   */
  private maybeCommit(): boolean {
    const matches = this.matchScratch;
    matches.length = 0;
    for (const id of this.voters()) {
      const match = this.prs.get(id)!.match;
      let i = matches.length;
      for (; i > 0 && matches[i - 1]! < match; i--) matches[i] = matches[i - 1]!;
      matches[i] = match;
    }
    if (matches.length === 0) return false;
    const mci = matches[this.quorum() - 1]!;
    const committed = this.log.maybeCommit(mci, this.term);
    if (committed) this.releasePendingReads();
    return committed;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  // ---- input ---------------------------------------------------------------------------------

  tick(): void {
    if (this.state === StateType.Leader) return this.tickHeartbeat();
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message(MessageType.MsgHup, this.id, { from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step(message(MessageType.MsgCheckQuorum, this.id, { from: this.id }));
      if (this.state === StateType.Leader && this.leadTransferee !== 0) this.leadTransferee = 0; // transfer timed out
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(message(MessageType.MsgBeat, this.id, { from: this.id }));
    }
  }

  step(m: Message): void {
    if (m.term === 0 || isLocal(m.type)) {
      // local message or proposal
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const inLease = this.cfg.checkQuorum && this.lead !== 0 && this.electionElapsed < this.cfg.electionTick;
        if (!isTransfer(m.context) && inLease) return; // a live leader: ignore disruptive votes
      }
      if (m.type === MessageType.MsgPreVote) {
        // never change term on a pre-vote
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // a granted pre-vote carries the future term; the real election bumps it
      } else {
        const fromLeader = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
        this.becomeFollower(m.term, fromLeader ? m.from : 0);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A stale leader (e.g. back from a partition) learns the new term and steps down.
        this.send(message(MessageType.MsgAppResp, m.from));
      } else if (m.type === MessageType.MsgPreVote) {
        this.send(message(MessageType.MsgPreVoteResp, m.from, { term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        if (this.state !== StateType.Leader) this.hup(false);
        return;
      case MessageType.MsgPeerDown:
        return this.handlePeerDown(m.from);
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        const canVote = this.vote === m.from || (this.vote === 0 && this.lead === 0) || (m.type === MessageType.MsgPreVote && m.term > this.term);
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          this.send(message(voteRespFor(m.type), m.from, { term: m.term }));
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(message(voteRespFor(m.type), m.from, { term: this.term, reject: true }));
        }
        return;
      }
    }
    switch (this.state) {
      case StateType.Leader:
        return this.stepLeader(m);
      case StateType.Candidate:
      case StateType.PreCandidate:
        return this.stepCandidate(m);
      default:
        return this.stepFollower(m);
    }
  }

  /**
   * The leader's process is gone (the driver's redial was refused), so waiting out a whole
   * election timeout only adds downtime. Forget the leader, so its lease no longer makes this
   * member refuse votes, and campaign within a few ticks; the random part still keeps two
   * followers from campaigning at the same moment. Safety never depends on timing, and a
   * partition (dials that time out, not refusals) keeps the ordinary timeout.
   */
  private handlePeerDown(id: NodeId): void {
    if (this.state !== StateType.Follower || id === 0 || this.lead !== id) return;
    this.lead = 0;
    const remaining = 1 + this.cfg.rand.int(FAST_CAMPAIGN_TICKS);
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - remaining);
  }

  private hup(transfer: boolean): void {
    if (!this.promotable()) return;
    // Don't campaign with unapplied conf changes: the config we'd lead with is not final.
    const pending = this.log.nextCommitted().some((e) => e.type === EntryType.ConfChange);
    if (pending && this.log.committed > this.log.applied) return;
    this.campaign(this.cfg.preVote && !transfer ? 'pre' : 'real', transfer);
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MsgBeat:
        return this.bcastHeartbeat(this.readOnly.lastPendingContext());
      case MessageType.MsgCheckQuorum: {
        let active = 0;
        for (const [id, pr] of this.prs) {
          if (pr.isLearner) continue;
          if (id === this.id || pr.recentActive) active++;
        }
        for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
        if (active < this.quorum()) {
          this.cfg.logger.warn({ id: this.id, term: this.term }, 'leader lost its quorum; stepping down');
          this.becomeFollower(this.term, 0);
        }
        return;
      }
      case MessageType.MsgProp: {
        if (m.entries.length === 0) throw new AssertionFailed('empty proposal');
        if (!this.prs.has(this.id) || this.leadTransferee !== 0) return; // dropped: caller retries
        const ents = m.entries.map((e) => {
          if (e.type === EntryType.ConfChange) {
            if (this.pendingConfIndex > this.log.applied) return { ...e, type: EntryType.Normal, data: EMPTY }; // one at a time
            this.pendingConfIndex = this.log.lastIndex() + 1;
          }
          return e;
        });
        this.appendEntries(ents);
        this.bcastAppend();
        return;
      }
      case MessageType.MsgReadIndex:
        return this.leaderReadIndex(m);
    }
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.MsgAppResp: {
        pr.recentActive = true;
        if (m.reject) {
          if (pr.maybeDecrTo(m.index, m.rejectHint)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const wasPaused = pr.isPaused();
        if (pr.maybeUpdate(m.index)) {
          if (pr.state === 'probe') pr.becomeReplicate();
          else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeProbe();
          else if (pr.state === 'replicate') pr.freeInflightUpTo(m.index);
          if (this.maybeCommit()) this.bcastAppend();
          else if (wasPaused) this.sendAppend(m.from);
          while (this.sendAppend(m.from, false)) {
            /* keep the pipeline full */
          }
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.send(message(MessageType.MsgTimeoutNow, m.from));
        }
        return;
      }
      case MessageType.MsgHeartbeatResp: {
        pr.recentActive = true;
        pr.probeSent = false;
        // A full pipeline whose appends were lost would never drain: free a slot so the next
        // append goes out, and its rejection (if any) resets the follower to probing.
        if (pr.state === 'replicate' && pr.isPaused()) pr.freeFirstInflight();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (!m.context || m.context.length === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks) return;
        // The leader's own ack is in `acks` already (leaderReadIndex records it): counting it
        // again let a leader cut off with one follower of five confirm reads, and serve stale ones.
        const voters = new Set(this.voters());
        const votes = [...acks].filter((a) => voters.has(a)).length;
        if (votes < this.quorum()) return;
        for (const rs of this.readOnly.advance(m.context)) this.answerRead(rs.req, rs.index);
        return;
      }
      case MessageType.MsgSnapStatus:
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        pr.probeSent = true; // wait for the next heartbeat response before probing
        return;
      case MessageType.MsgUnreachable:
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      case MessageType.MsgTransferLeader: {
        const to = m.from;
        if (pr.isLearner || to === this.id || to === this.leadTransferee) return;
        this.leadTransferee = to;
        this.electionElapsed = 0;
        if (pr.match === this.log.lastIndex()) this.send(message(MessageType.MsgTimeoutNow, to));
        else this.sendAppend(to);
        return;
      }
    }
  }

  private leaderReadIndex(m: Message): void {
    if (this.voters().length === 1) return this.answerRead(m, this.log.committed);
    if (!this.committedEntryInCurrentTerm()) {
      // Until this term commits an entry the leader's commit index may be stale.
      this.pendingReadIndex.push(m);
      return;
    }
    this.readOnly.add(this.log.committed, m);
    this.readOnly.recvAck(this.id, m.entries[0]!.data);
    this.bcastHeartbeat(m.entries[0]!.data);
  }

  private releasePendingReads(): void {
    if (this.pendingReadIndex.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const reqs = this.pendingReadIndex;
    this.pendingReadIndex = [];
    for (const r of reqs) this.leaderReadIndex(r);
  }

  private answerRead(req: Message, index: number): void {
    if (req.from === 0 || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.entries[0]!.data });
    } else {
      this.send(message(MessageType.MsgReadIndexResp, req.from, { index, entries: req.entries }));
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        return; // no leader: dropped
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from);
        return this.handleAppend(m);
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        return this.handleHeartbeat(m);
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        return this.handleSnapshot(m);
      case MessageType.MsgPreVoteResp:
      case MessageType.MsgVoteResp: {
        if (m.type !== myVoteResp) return;
        const r = this.poll(m.from, m.type, !m.reject);
        if (r === 'won') {
          if (this.state === StateType.PreCandidate) this.campaign('real');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (r === 'lost') {
          this.becomeFollower(this.term, 0);
        }
        return;
      }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === 0) return; // dropped: no leader to forward to
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleAppend(m);
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleHeartbeat(m);
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleSnapshot(m);
      case MessageType.MsgTransferLeader:
        if (this.lead === 0) return;
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.MsgTimeoutNow:
        this.hup(true);
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === 0) return;
        m.to = this.lead;
        this.send(m);
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) return;
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message(MessageType.MsgAppResp, m.from, { index: this.log.committed }));
      return;
    }
    const last = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (last !== null) {
      this.send(message(MessageType.MsgAppResp, m.from, { index: last }));
      return;
    }
    // Reject with a hint: the last index at or below m.index whose term is <= m.logTerm, so
    // the leader can skip a whole conflicting term at once.
    let hint = Math.min(m.index, this.log.lastIndex());
    while (hint > this.log.committed && this.log.termOrZero(hint) > m.logTerm) hint--;
    this.send(message(MessageType.MsgAppResp, m.from, { index: m.index, reject: true, rejectHint: hint, logTerm: this.log.termOrZero(hint) }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message(MessageType.MsgHeartbeatResp, m.from, { context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot!;
    if (s.metadata.index <= this.log.committed) {
      this.send(message(MessageType.MsgAppResp, m.from, { index: this.log.committed }));
      return;
    }
    if (this.log.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the entries: just fast-forward commit.
      this.log.commitTo(s.metadata.index);
      this.send(message(MessageType.MsgAppResp, m.from, { index: this.log.lastIndex() }));
      return;
    }
    this.log.restore(s);
    this.applyConfState(s.metadata.confState);
    this.cfg.logger.info({ id: this.id, index: s.metadata.index, term: s.metadata.term }, 'restored a snapshot from the leader');
    this.send(message(MessageType.MsgAppResp, m.from, { index: this.log.lastIndex() }));
  }

  // ---- membership ----------------------------------------------------------------------------

  applyConfChange(cc: ConfChange): ConfState {
    const cs = this.confState();
    const without = (l: NodeId[]) => l.filter((x) => x !== cc.nodeId);
    switch (cc.type) {
      case 'addNode':
        cs.voters = [...without(cs.voters), cc.nodeId];
        cs.learners = without(cs.learners);
        break;
      case 'addLearner':
        if (cs.voters.includes(cc.nodeId)) break; // demotion is not supported
        cs.learners = [...without(cs.learners), cc.nodeId];
        break;
      case 'removeNode':
        cs.voters = without(cs.voters);
        cs.learners = without(cs.learners);
        break;
    }
    this.applyConfState(cs);
    if (this.state === StateType.Leader) {
      if (!this.prs.has(this.id) || this.prs.get(this.id)!.isLearner) {
        this.becomeFollower(this.term, 0);
      } else {
        const pr = this.prs.get(cc.nodeId);
        if (pr && cc.type !== 'removeNode' && pr.match === 0) pr.becomeProbe();
        if (this.maybeCommit()) this.bcastAppend();
        if (this.leadTransferee !== 0 && !this.prs.has(this.leadTransferee)) this.leadTransferee = 0;
      }
    }
    return this.confState();
  }

  electionTimeoutElapsed(): number {
    return this.electionElapsed;
  }
}
