/**
 * The raft core's data contract, shared by store/raft (the pure core that implements it),
 * store/sim (which drives it in a simulated world) and store/node (which drives it with real
 * time, disk and sockets). Names follow etcd-io/raft so its docs and tests read across.
 *
 * Member ids are positive safe integers (uint53) rendered as lowercase hex on the API.
 */

export type NodeId = number;

export const enum EntryType {
  /** A normal entry: `data` is an application command (empty data = the leader's no-op). */
  Normal = 0,
  /** A single-server membership change: `data` is a JSON ConfChange. */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  /** 0 = voted for nobody in this term. */
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** The application state machine's snapshot bytes. */
  data: Uint8Array;
}

export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to raft: the application's member record (name, peer URLs). */
  context?: unknown;
}

export const enum MessageType {
  MsgHup = 'MsgHup',
  MsgBeat = 'MsgBeat',
  MsgProp = 'MsgProp',
  MsgApp = 'MsgApp',
  MsgAppResp = 'MsgAppResp',
  MsgVote = 'MsgVote',
  MsgVoteResp = 'MsgVoteResp',
  MsgPreVote = 'MsgPreVote',
  MsgPreVoteResp = 'MsgPreVoteResp',
  MsgSnap = 'MsgSnap',
  MsgHeartbeat = 'MsgHeartbeat',
  MsgHeartbeatResp = 'MsgHeartbeatResp',
  MsgUnreachable = 'MsgUnreachable',
  MsgSnapStatus = 'MsgSnapStatus',
  /** Local: the driver saw a peer's process gone (its peer port refuses connections). */
  MsgPeerDown = 'MsgPeerDown',
  MsgCheckQuorum = 'MsgCheckQuorum',
  MsgTransferLeader = 'MsgTransferLeader',
  MsgTimeoutNow = 'MsgTimeoutNow',
  MsgReadIndex = 'MsgReadIndex',
  MsgReadIndexResp = 'MsgReadIndexResp',
}

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  /** ReadIndex request context (opaque bytes chosen by the caller). */
  context?: Uint8Array;
}

export const enum StateType {
  Follower = 'StateFollower',
  Candidate = 'StateCandidate',
  Leader = 'StateLeader',
  PreCandidate = 'StatePreCandidate',
}

export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

/** A linearizable read that is safe to serve once the applied index reaches `index`. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * Everything the core wants done, handed out in one batch. The driver must, in this order:
 * 1. persist `hardState` (if set), `entries` and `snapshot` (if set) durably (fsync when
 *    `mustSync`);
 * 2. send `messages` (only after step 1: a vote or an append ack must not precede its fsync);
 * 3. apply `snapshot` then `committedEntries` to the state machine;
 * 4. call `advance()`.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  readStates: ReadState[];
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  mustSync: boolean;
}

/** Read-only access to what the driver persisted; the core queries it. */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxBytes in total (always at least one). Throws ErrCompacted / ErrUnavailable. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export interface RaftLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks without a leader's message before a follower campaigns (randomized in [e, 2e)). */
  electionTick: number;
  heartbeatTick: number;
  storage: Storage;
  /** The last applied index when restarting (0 on a fresh start). */
  applied: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  checkQuorum: boolean;
  preVote: boolean;
  /** Seeded randomness for election timeouts (lib/rand.ts Rand satisfies it). */
  rand: { int(n: number): number };
  logger: RaftLogger;
}

/** Per-follower replication state, for /v2/stats/leader and the dashboard. */
export interface ProgressView {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  recentActive: boolean;
  isLearner: boolean;
}

export interface RaftStatus {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  /** Only on the leader. */
  progress?: Map<NodeId, ProgressView>;
}

/** The core's API, thread-free, in the shape of etcd-io/raft's RawNode. */
export interface RawNodeApi {
  tick(): void;
  campaign(): void;
  propose(data: Uint8Array): void;
  proposeConfChange(cc: ConfChange): void;
  /** Applies a committed conf change entry; returns the new ConfState. */
  applyConfChange(cc: ConfChange): ConfState;
  step(m: Message): void;
  readIndex(ctx: Uint8Array): void;
  transferLeader(to: NodeId): void;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, ok: boolean): void;
  /** Holds back committed entries from Readies until called with false (RawNode.holdApplies). */
  holdApplies(held: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(rd: Ready): void;
  status(): RaftStatus;
  /** status() without the leader's progress map: cheap enough for every request. */
  basicStatus(): RaftStatus;
}
