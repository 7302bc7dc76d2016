/**
 * The node driver: turns wall time into raft ticks and each Ready into one WAL write + fsync,
 * peer messages, and applications to the keyspace. Writes go through raft even on a single
 * member, so a cluster runs the same code path.
 *
 *   const node = await StoreNodeImpl.start({ dataDir, name, peerURLs, clientURLs, initialCluster, ... });
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { assert } from '../../lib/assert.ts';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/log.ts';
import { Rand } from '../../lib/rand.ts';
import { AuthStore, type AuthSnapshot } from '../auth/auth-store.ts';
import { isAuthCommand, type AuthCommand, type AuthResult } from '../auth/types.ts';
import { EtcdError, EtcdErrorCode } from '../kv/errors.ts';
import { Keyspace } from '../kv/keyspace.ts';
import type { KvCommand, KvEvent } from '../kv/types.ts';
import { MemoryStorage } from '../raft/memory-storage.ts';
import { ProposalDroppedError, RawNode } from '../raft/raw-node.ts';
import { PendingRequests, type PendingRequestsOptions } from './pending-requests.ts';
import { EntryType, MessageType, StateType, type ConfChange, type ConfState, type Entry, type Message, type NodeId, type Ready, type Snapshot } from '../raft/types.ts';
import { SnapshotFiles } from '../wal/snapshot-files.ts';
import { Wal } from '../wal/wal.ts';
import { decodeConfChange, decodeProposal, encodeProposal, type ConfChangeContext, type ProposalEnvelope, type PublishCommand } from './entry-codec.ts';
import { MemberRegistry, clusterIdFor, memberIdFor, type InitialMember } from './members.ts';
import { ConcurrencyWindow } from './concurrency-window.ts';
import { splitReady } from './ready-split.ts';
import { StateSnapshotWriter } from './state-snapshot-writer.ts';
import { ExpirySyncer } from './expiry-syncer.ts';
import { ProposalEpochs } from './proposal-epochs.ts';
import { NodeMetrics } from './metrics.ts';
import type { PeerEvents, PeerTransport } from './peer-transport.ts';
import type { FollowerStats, Member, NodeStatus, StoreNode } from './types.ts';

export interface StoreNodeOptions {
  dataDir: string;
  name: string;
  /** This member's advertised peer URLs. */
  peerURLs: string[];
  clientURLs: string[];
  /** Members of a new cluster (this one included); ignored when the data dir has state. */
  initialCluster: InitialMember[];
  initialClusterState: 'new' | 'existing';
  clusterToken: string;
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  /** How long a write may wait for commit before failing with a timeout. */
  requestTimeoutMs?: number;
  logger: Logger;
  metrics: Registry;
  /** Creates the peer transport once ids are known (null: a single member never needs one). */
  /** Called when this member is removed from the cluster (it should shut down, as etcd does). */
  onRemoved?: () => void;
  transportFactory?: (self: NodeId, clusterId: string, events: PeerEvents) => PeerTransport;
  seed?: number;
}

/** How long one slice of a snapshot's writing may hold the event loop. */
const SNAPSHOT_SLICE_MS = 5;

/** Entries kept behind a snapshot so slow followers can catch up without one. */
const CATCH_UP_ENTRIES = 5000;

interface Bootstrap {
  clusterId: string;
  confState: ConfState;
  members: Member[];
}

export class StoreNodeImpl implements StoreNode {
  readonly keyspace = new Keyspace();
  /** Users, roles and the auth switch, replicated like the keyspace. */
  readonly auth = new AuthStore();
  private readonly registry = new MemberRegistry();
  private readonly storage = new MemoryStorage();
  private raw!: RawNode;
  private wal!: Wal;
  private transport: PeerTransport | null = null;
  private readonly snaps: SnapshotFiles;
  private readonly metrics: NodeMetrics;
  private readonly proposals: PendingRequests<unknown>;
  private readonly confChanges: PendingRequests<void>;
  private readonly reads: PendingRequests<void>;
  /** ReadIndex answers waiting for apply to catch up. */
  private readyReads: { index: number; key: string }[] = [];
  private seq = 0;
  /**
   * Distinguishes this process's request ids from those of the member's earlier runs: entries
   * and read responses sent before a restart can still arrive after it, and must not answer
   * a new request that happens to reuse an old counter value.
   */
  private readonly incarnation = randomBytes(4).toString('hex');
  private idPrefix = '';
  private id = 0;
  private clusterId = '';
  private confState: ConfState = { voters: [], learners: [] };
  private appliedIndex = 0;
  private snapshotIndex = 0;
  private snapshotInFlight: SnapshotInFlight | null = null;
  private snapshotWriting: SnapshotWriting | null = null;
  private term = 0;
  private leaderId = 0;
  private state: StateType = StateType.Follower;
  private readonly startTime = new Date();
  private leaderSince = new Date();
  private ticker: NodeJS.Timeout | null = null;
  private readonly expiry: ExpirySyncer;
  private readonly epochs = new ProposalEpochs();
  /**
   * The envelopes this member proposed, by their entry's bytes (raft hands the same buffer back
   * committed), so applying them skips decoding what was just encoded. Dropped at apply; weak,
   * so a copy lost in a leader change goes with its buffer.
   */
  private readonly proposedHere = new WeakMap<Uint8Array, ProposalEnvelope>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  /** Decides how each Ready is made durable (see handleReady). */
  private readonly concurrency = new ConcurrencyWindow(100);
  private recvAppend = 0;
  private sendAppend = 0;
  private readiesHandled = 0;
  /** performance.now() when the Ready in hand was taken; 0 while the loop waits. */
  private readyTakenAt = 0;

  private constructor(private readonly opts: StoreNodeOptions) {
    this.snaps = new SnapshotFiles(join(opts.dataDir, 'snap'), opts.logger);
    this.metrics = new NodeMetrics(opts.metrics, {
      pending: () => this.proposals.size,
      committed: () => this.raw?.basicStatus().hardState.commit ?? 0, // raw exists once open() ran
      applied: () => this.appliedIndex,
      readiesHandled: () => this.readiesHandled,
      readyBusyMs: () => (this.readyTakenAt === 0 ? 0 : performance.now() - this.readyTakenAt),
    });
    const pending: PendingRequestsOptions = {
      timeoutMs: opts.requestTimeoutMs ?? 5000 + 2 * opts.electionMs,
      retryMs: opts.heartbeatMs,
      timeoutError: (what) => this.timeoutError(what),
      submitted: () => this.kick(),
      settled: (key, timedOut) => {
        this.epochs.settled(key);
        if (timedOut) this.metrics.failed.inc();
      },
    };
    this.proposals = new PendingRequests(pending);
    this.confChanges = new PendingRequests(pending);
    this.reads = new PendingRequests(pending);
    this.expiry = new ExpirySyncer({
      isLeader: () => this.state === StateType.Leader,
      nextExpiryMs: () => this.keyspace.nextExpiryMs(),
      proposeSync: (nowMs) => this.propose({ op: 'sync', nowMs }),
      logger: opts.logger,
    });
  }

  static async start(opts: StoreNodeOptions): Promise<StoreNodeImpl> {
    const node = new StoreNodeImpl(opts);
    await node.open();
    return node;
  }

  private get logger(): Logger {
    return this.opts.logger;
  }

  // ---- start-up ------------------------------------------------------------------------------

  private async open(): Promise<void> {
    const snapshot = await this.snaps.loadNewest();
    const { wal, log } = await Wal.open(join(this.opts.dataDir, 'wal'), snapshot, { logger: this.logger, fsyncHistogram: this.metrics.fsync });
    this.wal = wal;
    let boot = log.bootstrap as Bootstrap | null;
    if (!log.identity || !boot) {
      boot = this.newClusterBootstrap();
      const self = boot.members.find((m) => m.name === this.opts.name)!;
      await wal.bootstrap({ clusterId: boot.clusterId, memberId: self.id }, boot);
      this.id = self.id;
      this.logger.info({ member: this.opts.name, id: self.id.toString(16), cluster: boot.clusterId }, 'starting a new member');
    } else {
      this.id = log.identity.memberId;
      this.logger.info({ member: this.opts.name, id: this.id.toString(16), entries: log.entries.length, snapshot: snapshot?.metadata.index ?? 0 }, 'restarting from the data directory');
    }
    this.clusterId = boot.clusterId;
    this.confState = boot.confState;
    for (const m of boot.members) this.registry.upsert(m);
    this.storage.setConfState(boot.confState);
    if (snapshot) {
      this.storage.applySnapshot(snapshot);
      this.installSnapshot(snapshot);
    }
    this.storage.setHardState(log.hardState);
    this.storage.append(log.entries);
    this.term = log.hardState.term;
    const rand = new Rand(this.opts.seed ?? (Date.now() ^ this.id) >>> 0);
    this.raw = new RawNode({
      id: this.id,
      electionTick: Math.max(2, Math.round(this.opts.electionMs / this.opts.heartbeatMs)),
      heartbeatTick: 1,
      storage: this.storage,
      applied: this.appliedIndex,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      checkQuorum: true,
      preVote: true,
      rand,
      logger: this.logger,
    });
    if (this.opts.transportFactory && (this.confState.voters.length + this.confState.learners.length > 1 || this.opts.initialClusterState === 'existing')) {
      this.startTransport();
    }
    // A single voter need not wait a whole election timeout to lead.
    if (this.confState.voters.length === 1 && this.confState.voters[0] === this.id) this.raw.campaign();
    this.loopDone = this.loop();
    this.ticker = setInterval(() => {
      this.raw.tick();
      // A follower's ReadIndex crosses to the leader once; if the link dropped it (a peer link
      // being dialled again), nothing would answer it. Asking again is harmless: the first
      // answer settles the read and later ones find nothing waiting. Leaders ask again too: a
      // read forwarded while this member was a follower went to a leader that may be gone.
      this.reads.retryOlderThan(5 * this.opts.heartbeatMs);
      this.kick();
    }, this.opts.heartbeatMs);
    this.expiry.start();
    // Serve nothing until what was committed before the restart is applied again: otherwise a
    // read right after start-up could miss an acknowledged write.
    const committedAtStart = log.hardState.commit;
    while (this.appliedIndex < committedAtStart && !this.stopped) {
      this.kick();
      await new Promise((r) => setTimeout(r, 1));
    }
    void this.publish();
  }

  /** Announces this member's name and client URLs through raft, retrying until committed. */
  private async publish(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.propose({ op: 'publish', memberId: this.id, name: this.opts.name, clientURLs: this.opts.clientURLs });
        return;
      } catch (e) {
        if (this.stopped) return;
        this.logger.debug({ err: String(e) }, 'publishing member attributes failed; retrying');
        await new Promise((r) => setTimeout(r, this.opts.electionMs));
      }
    }
  }

  private newClusterBootstrap(): Bootstrap {
    if (this.opts.initialClusterState === 'existing') {
      const members = this.opts.initialCluster.map((m) => ({ id: memberIdFor(m.peerURLs, this.opts.clusterToken), name: m.name, peerURLs: m.peerURLs, clientURLs: m.name === this.opts.name ? this.opts.clientURLs : [] }));
      // Joining: the membership arrives from the leader (log or snapshot); start with none.
      return { clusterId: '', confState: { voters: [], learners: [] }, members };
    }
    const members = this.opts.initialCluster.map((m) => ({
      id: memberIdFor(m.peerURLs, this.opts.clusterToken),
      name: m.name,
      peerURLs: m.peerURLs,
      clientURLs: m.name === this.opts.name ? this.opts.clientURLs : [],
    }));
    if (!members.some((m) => m.name === this.opts.name)) {
      throw new Error(`--initial-cluster does not name this member (--name ${this.opts.name})`);
    }
    return { clusterId: clusterIdFor(members.map((m) => m.id)), confState: { voters: members.map((m) => m.id), learners: [] }, members };
  }

  private startTransport(): void {
    this.transport = this.opts.transportFactory!(this.id, this.clusterId, {
      onMessage: (m) => {
        if (m.type === 'MsgApp') this.recvAppend++;
        this.raw.step(m);
        this.kick();
      },
      onUnreachable: (id) => {
        this.raw.reportUnreachable(id);
        this.kick();
      },
      onSnapshotStatus: (id, ok) => {
        this.raw.reportSnapshot(id, ok);
        this.kick();
      },
      onPeerDown: (id) => {
        this.raw.reportPeerDown(id);
        this.kick();
      },
    });
    for (const m of this.registry.list()) if (m.id !== this.id) this.transport.addPeer(m.id, m.peerURLs);
  }

  // ---- the Ready loop ------------------------------------------------------------------------

  private kick(): void {
    const w = this.wake;
    this.wake = null;
    // After this turn's I/O, not in a microtask: every request already read then joins the
    // next Ready and shares its (blocking) durable write. A microtask wake made a Ready per
    // request: 4,400 PUTs/s at 16 connections instead of 13,000.
    if (w) setImmediate(w);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.snapshotInFlight?.saved) await this.finishSnapshot(this.snapshotInFlight);
      if (!this.raw.hasReady()) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      const rd = this.raw.ready();
      this.readyTakenAt = performance.now();
      try {
        await this.handleReady(rd);
      } catch (e) {
        this.logger.error({ err: e }, 'fatal: could not persist or apply a raft Ready; stopping');
        process.exitCode = 1;
        this.stopped = true;
        this.failAll(new EtcdError(EtcdErrorCode.RaftInternal, 'the member stopped after a storage error', this.keyspace.index));
        return;
      }
      this.raw.advance(rd);
      this.readyTakenAt = 0;
      this.readiesHandled++;
      this.maybeSnapshot();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.raftState);
    if (rd.hardState) this.term = rd.hardState.term;
    if (rd.snapshot) {
      // The leader's snapshot supersedes one of our own still being written: never mark that older one.
      this.endSnapshotWriting();
      this.snapshotInFlight = null;
      await this.snaps.save(rd.snapshot);
      this.storage.applySnapshot(rd.snapshot);
      await this.wal.markSnapshot(rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    const leader = this.state === StateType.Leader;
    const { early, late, durable, pending } = splitReady(rd, leader);
    this.sendMessages(early);
    // A leader that just sent appends writes in the background, so it can step its followers'
    // answers and read new requests meanwhile: on 3 nodes that took 16-connection PUTs from 6,120
    // to 7,122 per second against a leader that blocked. A single member does so while requests
    // overlap (64 connections: 30,764 → 32,872 PUTs/s, median of 6); one at a time, it blocks
    // (1 connection: 4,352 and 4,321 PUTs/s, where always in the background gave 3,934).
    // Followers block. Writing theirs in the background too bought nothing measured (3 nodes,
    // 16 connections spread: 7,361 PUTs/s blocking, 7,369 with the window), and with it one CI
    // nemesis run left a follower 12 entries behind for 30 s, cause not found (raft itself holds
    // up there: write-in-flight.test.ts, and the simulation's followers with writes in flight).
    const inBackground = leader && (this.concurrency.observe(Math.max(rd.entries.length, this.proposals.size + this.reads.size)) || early.length > 0);
    const saving = inBackground ? this.wal.save(rd.hardState, rd.entries, rd.mustSync, true) : null;
    for (const e of durable) this.applyEntry(e);
    await (saving ?? this.wal.save(rd.hardState, rd.entries, rd.mustSync));
    this.storage.append(rd.entries);
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    this.sendMessages(late);
    if (rd.snapshot) {
      this.logger.info({ index: rd.snapshot.metadata.index, term: rd.snapshot.metadata.term }, 'applied a snapshot from the leader');
      this.installSnapshot(rd.snapshot);
      this.syncTransportPeers();
    }
    for (const e of pending) this.applyEntry(e);
    for (const id of this.epochs.takeLost()) this.proposals.retry(id);
    // TTLs change only with applied entries or a snapshot; most Readies (ticks, answers) have neither.
    if (rd.committedEntries.length > 0 || rd.snapshot) this.expiry.keysChanged();
    for (const rs of rd.readStates) this.readyReads.push({ index: rs.index, key: Buffer.from(rs.requestCtx).toString('hex') });
    this.releaseReads();
  }

  /** Replaces the applied state with a snapshot's (at start-up, or one sent by the leader). */
  private installSnapshot(snap: Snapshot): void {
    this.restoreState(snap.data);
    this.epochs.restored(snap.metadata.term);
    this.confState = snap.metadata.confState;
    this.appliedIndex = snap.metadata.index;
    this.snapshotIndex = snap.metadata.index;
  }

  private sendMessages(msgs: Message[]): void {
    if (msgs.length === 0 || !this.transport) return;
    for (const m of msgs) if (m.type === MessageType.MsgApp) this.sendAppend++;
    this.transport.send(msgs);
  }

  private onSoftState(lead: NodeId, state: StateType): void {
    if (lead !== this.leaderId) {
      if (lead !== 0) this.metrics.leaderChanges.inc();
      this.leaderSince = new Date();
      this.logger.info({ leader: lead ? lead.toString(16) : 'none', term: this.raw.basicStatus().hardState.term }, lead ? 'leader changed' : 'lost the leader');
    }
    this.leaderId = lead;
    this.state = state;
    this.metrics.hasLeader.set(lead !== 0 ? 1 : 0);
    this.metrics.isLeader.set(state === StateType.Leader ? 1 : 0);
  }

  private applyEntry(e: Entry): void {
    this.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      this.epochs.shouldApply(e.term);
      return this.applyConfChange(e);
    }
    if (e.data.length === 0) {
      this.epochs.shouldApply(e.term); // a new leader's empty entry
      return;
    }
    let p = this.proposedHere.get(e.data);
    if (p) this.proposedHere.delete(e.data);
    else p = decodeProposal(e.data);
    // A copy that crossed a leader change is skipped on every member; its proposer sends it again.
    if (!this.epochs.shouldApply(e.term, p.id, p.epoch)) return;
    const awaited = this.proposals.has(p.id);
    if (p.cmd.op === 'publish') {
      const m = this.registry.get(p.cmd.memberId);
      if (m) this.registry.upsert({ ...m, name: p.cmd.name, clientURLs: p.cmd.clientURLs });
      if (awaited) this.proposals.settle(p.id, { action: 'set', node: { key: '/', dir: true, expireAtMs: null, modifiedIndex: 0, createdIndex: 0 }, etcdIndex: this.keyspace.index }, null);
      return;
    }
    let result: KvEvent | KvEvent[] | AuthResult;
    try {
      result = isAuthCommand(p.cmd) ? this.auth.apply(p.cmd) : this.keyspace.apply(p.cmd);
    } catch (err) {
      if (awaited) this.proposals.settle(p.id, null, err);
      return;
    }
    if (awaited) this.proposals.settle(p.id, Array.isArray(result) ? result[0]! : result, null);
  }

  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    const ctx = cc.context;
    if (cc.type !== 'removeNode' && this.registry.isRemoved(cc.nodeId)) {
      this.logger.warn({ id: cc.nodeId.toString(16) }, 'ignored a conf change re-adding a removed member');
      if (ctx) this.confChanges.settle(ctx.requestId, null, new Error(`member ${cc.nodeId.toString(16)} was removed and cannot come back`));
      return;
    }
    // Before the leader forgets a removed member, tell it the commit index once more: otherwise
    // it never learns its removal committed and never shuts down.
    const st = this.raw.status();
    const removedMatch = cc.type === 'removeNode' ? st.progress?.get(cc.nodeId)?.match : undefined;
    this.confState = this.raw.applyConfChange(cc);
    if (cc.type === 'removeNode') {
      this.registry.remove(cc.nodeId);
      if (removedMatch !== undefined && cc.nodeId !== this.id && this.transport) {
        const transport = this.transport;
        transport.send([{ type: MessageType.MsgHeartbeat, from: this.id, to: cc.nodeId, term: st.hardState.term, logTerm: 0, index: 0, entries: [], commit: Math.min(removedMatch, e.index), reject: false, rejectHint: 0 }]);
        setTimeout(() => transport.removePeer(cc.nodeId), 1000).unref();
      } else {
        this.transport?.removePeer(cc.nodeId);
      }
      this.logger.info({ id: cc.nodeId.toString(16) }, 'member removed');
      if (cc.nodeId === this.id) {
        this.logger.warn({}, 'this member was removed from the cluster; shutting down');
        setImmediate(() => this.opts.onRemoved?.());
      }
    } else if (ctx?.member) {
      const existed = this.registry.get(cc.nodeId);
      this.registry.upsert({ ...ctx.member, clientURLs: existed?.clientURLs ?? ctx.member.clientURLs });
      if (cc.nodeId !== this.id) {
        if (!this.transport && this.opts.transportFactory) this.startTransport();
        else if (existed) this.transport?.updatePeer(cc.nodeId, ctx.member.peerURLs);
        else this.transport?.addPeer(cc.nodeId, ctx.member.peerURLs);
      }
      this.logger.info({ id: cc.nodeId.toString(16), peerURLs: ctx.member.peerURLs, type: cc.type }, 'membership changed');
    }
    if (ctx) this.confChanges.settle(ctx.requestId, undefined, null);
  }

  private syncTransportPeers(): void {
    if (!this.transport && this.opts.transportFactory && this.registry.list().length > 1) this.startTransport();
    if (!this.transport) return;
    for (const m of this.registry.list()) if (m.id !== this.id) this.transport.addPeer(m.id, m.peerURLs);
  }

  private restoreState(data: Uint8Array): void {
    const s = unpack(data) as { kv: unknown; members: ReturnType<MemberRegistry['toJSON']>; auth?: AuthSnapshot };
    this.keyspace.restore(s.kv);
    this.auth.restore(s.auth);
    this.registry.restore(s.members);
  }

  /**
   * Every --snapshot-count applied entries: applies are held so the state stays this index's,
   * and it is written out a slice at a time between Readies (writeSnapshotSlice), raft and
   * requests going on meanwhile. Its file is then written and synced while the Ready loop goes
   * on; the loop marks the WAL once the file is durable (finishSnapshot). Until then the WAL
   * keeps every entry, so a crash in between loses nothing.
   */
  private maybeSnapshot(): void {
    if (this.snapshotInFlight || this.snapshotWriting || this.appliedIndex - this.snapshotIndex < this.opts.snapshotCount) return;
    const state = { keyspace: this.keyspace, members: this.registry.toJSON(), auth: this.auth.snapshot() };
    const writing: SnapshotWriting = { index: this.appliedIndex, end: this.metrics.snapshotSave.startTimer(), writer: new StateSnapshotWriter(state) };
    this.raw.holdApplies(true);
    this.snapshotWriting = writing;
    setImmediate(() => this.writeSnapshotSlice(writing));
  }

  private writeSnapshotSlice(writing: SnapshotWriting): void {
    // Dropped: a leader's snapshot replaced the state, or the member stopped.
    if (this.snapshotWriting !== writing) return;
    if (!writing.writer.step(SNAPSHOT_SLICE_MS)) {
      setImmediate(() => this.writeSnapshotSlice(writing));
      return;
    }
    this.endSnapshotWriting();
    this.kick();
    const { index, end } = writing;
    assert(index === this.appliedIndex, `applied index moved from ${index} to ${this.appliedIndex} while its snapshot was written`);
    const data = writing.writer.bytes();
    const snap = this.storage.createSnapshot(index, this.confState, data);
    this.snapshotIndex = index;
    if (index > CATCH_UP_ENTRIES) this.storage.compact(index - CATCH_UP_ENTRIES);
    const flight: SnapshotInFlight = { index, term: snap.metadata.term, bytes: data.length, saved: false, end, done: Promise.resolve() };
    flight.done = this.snaps.save(snap).then(
      () => {
        flight.saved = true;
        this.kick();
      },
      (err: unknown) => {
        this.logger.error({ err, index }, 'could not save a snapshot; the WAL keeps every entry');
        if (this.snapshotInFlight === flight) this.snapshotInFlight = null;
      },
    );
    this.snapshotInFlight = flight;
  }

  /** Done, or dropped: applies go on. */
  private endSnapshotWriting(): void {
    if (!this.snapshotWriting) return;
    this.snapshotWriting = null;
    this.raw.holdApplies(false);
  }

  private async finishSnapshot(s: SnapshotInFlight): Promise<void> {
    this.snapshotInFlight = null;
    await this.wal.markSnapshot(s.index, s.term);
    await this.snaps.prune(3);
    s.end();
    this.logger.info({ index: s.index, bytes: s.bytes }, 'saved a snapshot');
  }

  private releaseReads(): void {
    const still: { index: number; key: string }[] = [];
    for (const r of this.readyReads) {
      if (this.appliedIndex >= r.index) this.reads.settle(r.key, undefined, null);
      else still.push(r);
    }
    this.readyReads = still;
  }

  private failAll(err: unknown): void {
    this.proposals.failAll(err);
    this.confChanges.failAll(err);
    this.reads.failAll(err);
  }

  /** Waits on `pending` for the request `key`, unless the member has stopped. */
  private track<T>(pending: PendingRequests<T>, key: string, what: string, submit: () => void): Promise<T> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    return pending.wait(key, what, submit);
  }

  // ---- requests ------------------------------------------------------------------------------

  private nextId(): string {
    this.idPrefix ||= `${this.id.toString(16)}.${this.incarnation}.`;
    return this.idPrefix + (++this.seq).toString(36);
  }

  private stoppedError(): EtcdError {
    return new EtcdError(EtcdErrorCode.RaftInternal, 'etcdserver: server stopped', this.keyspace.index);
  }

  private timeoutError(what: string): EtcdError {
    return new EtcdError(EtcdErrorCode.RaftInternal, `etcdserver: request timed out (${what})`, this.keyspace.index);
  }

  propose(cmd: KvCommand | PublishCommand): Promise<KvEvent> {
    return this.proposeAny(cmd) as Promise<KvEvent>;
  }

  proposeAuth(cmd: AuthCommand): Promise<AuthResult> {
    return this.proposeAny(cmd) as Promise<AuthResult>;
  }

  private proposeAny(cmd: KvCommand | PublishCommand | AuthCommand): Promise<unknown> {
    const id = this.nextId();
    return this.track(this.proposals, id, 'write', () => {
      const epoch = this.raw.raft.term;
      const envelope = { id, cmd, epoch };
      const data = encodeProposal(envelope);
      this.raw.propose(data);
      this.proposedHere.set(data, envelope);
      this.epochs.sent(id, epoch);
    });
  }

  readBarrier(): Promise<void> {
    const key = this.nextId();
    const ctx = Buffer.from(key);
    return this.track(this.reads, ctx.toString('hex'), 'quorum read', () => {
      if (this.leaderId === 0) throw new ProposalDroppedError('no leader is known');
      this.raw.readIndex(ctx);
    });
  }

  // ---- membership ----------------------------------------------------------------------------

  private changeMembership(cc: ConfChange, member?: Member): Promise<void> {
    const requestId = this.nextId();
    const context: ConfChangeContext = { requestId, member };
    return this.track(this.confChanges, requestId, 'membership change', () => this.raw.proposeConfChange({ ...cc, context }));
  }

  async addMember(peerURLs: string[], learner = false): Promise<Member> {
    // The id depends only on the peer URLs and the cluster token, so the new member, started
    // with --initial-cluster-state existing, derives the same id by itself.
    const id = memberIdFor(peerURLs, this.opts.clusterToken);
    if (this.registry.isRemoved(id)) throw new Error(`etcdserver: member ${id.toString(16)} with these peer URLs was removed; a removed member cannot rejoin: use new peer URLs`);
    for (const m of this.registry.list()) {
      if (m.peerURLs.some((u) => peerURLs.includes(u))) throw new Error('etcdserver: peerURL exists');
    }
    const member: Member = { id, name: '', peerURLs, clientURLs: [] };
    await this.changeMembership({ type: learner ? 'addLearner' : 'addNode', nodeId: id }, member);
    return member;
  }

  async removeMember(id: NodeId): Promise<void> {
    if (!this.registry.get(id)) throw new Error(`etcdserver: member not found`);
    await this.changeMembership({ type: 'removeNode', nodeId: id });
  }

  async updateMember(id: NodeId, peerURLs: string[]): Promise<void> {
    const m = this.registry.get(id);
    if (!m) throw new Error(`etcdserver: member not found`);
    for (const o of this.registry.list()) {
      if (o.id !== id && o.peerURLs.some((u) => peerURLs.includes(u))) throw new Error('etcdserver: peerURL exists');
    }
    const isLearner = this.confState.learners.includes(id);
    await this.changeMembership({ type: isLearner ? 'addLearner' : 'addNode', nodeId: id }, { ...m, peerURLs });
  }

  // ---- views ---------------------------------------------------------------------------------

  status(): NodeStatus {
    const st = this.raw.basicStatus();
    return {
      id: this.id,
      name: this.opts.name,
      clusterId: this.clusterId,
      state: st.softState.raftState,
      leaderId: st.softState.lead,
      term: st.hardState.term,
      commitIndex: st.hardState.commit,
      appliedIndex: this.appliedIndex,
      startTime: this.startTime,
      leaderSince: this.leaderSince,
      recvAppendRequestCnt: this.recvAppend,
      sendAppendRequestCnt: this.sendAppend,
    };
  }

  get raftIndex(): number {
    return this.appliedIndex;
  }

  get raftTerm(): number {
    return this.raw.raft.term;
  }

  members(): Member[] {
    return this.registry.list();
  }

  followerStats(): Map<NodeId, FollowerStats> | null {
    if (this.state !== StateType.Leader) return null;
    const stats = this.transport?.stats() ?? new Map<NodeId, FollowerStats>();
    for (const id of stats.keys()) if (!this.registry.get(id)) stats.delete(id);
    return stats;
  }

  /** Stops ticking, lets in-flight writes finish (bounded), flushes the WAL and closes peers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const deadline = Date.now() + 3000;
    while (this.proposals.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.expiry.stop();
    this.endSnapshotWriting();
    this.kick();
    await this.loopDone;
    await this.snapshotInFlight?.done;
    this.failAll(this.stoppedError());
    await this.transport?.stop();
    await this.wal.close();
  }
}

/** A snapshot of this member's own whose data is being written, applies held at `index`. */
interface SnapshotWriting {
  index: number;
  writer: StateSnapshotWriter;
  end: () => void;
}

/** A snapshot of this member's own whose file is being written. */
interface SnapshotInFlight {
  index: number;
  term: number;
  bytes: number;
  /** The file is durable: the WAL may be marked. */
  saved: boolean;
  end: () => void;
  /** Settles (never rejects) when the file is written or failed. */
  done: Promise<void>;
}
