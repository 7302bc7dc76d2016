import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../lib/log.ts';
import { Rand } from '../../lib/rand.ts';
import { MemoryStorage } from './memory-storage.ts';
import { RaftHarness } from './test-harness.ts';
import { ProposalDroppedError, RawNode } from './raw-node.ts';
import { MessageType, StateType } from './types.ts';

test('a single voter elects itself and commits its proposals', () => {
  const h = new RaftHarness([1]);
  h.elect(1);
  assert.equal(h.state(1), StateType.Leader);
  h.propose(1, 'a');
  h.propose(1, 'b');
  assert.deepEqual(h.applied.get(1), ['a', 'b']);
});

test('three voters elect one leader; followers apply what it commits, in order', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  assert.equal(h.leader(), 1);
  for (const x of ['x', 'y', 'z']) h.propose(1, x);
  for (const id of [1, 2, 3]) assert.deepEqual(h.applied.get(id), ['x', 'y', 'z']);
});

test('a follower forwards proposals to the leader; without a leader they are refused', () => {
  const h = new RaftHarness([1, 2, 3]);
  assert.throws(() => h.node(2).propose(new Uint8Array([1])), ProposalDroppedError);
  h.elect(1);
  h.propose(3, 'via-follower');
  for (const id of [1, 2, 3]) assert.deepEqual(h.applied.get(id), ['via-follower']);
});

test('term rules: a higher term makes a leader step down; a lower term is ignored', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  const t1 = h.term(1);
  h.elect(2);
  assert.equal(h.leader(), 2);
  assert.ok(h.term(2) > t1);
  assert.equal(h.state(1), StateType.Follower);
  assert.equal(h.term(1), h.term(2));
  // A stale append from an old term changes nothing.
  h.node(3).step({ type: MessageType.MsgApp, from: 1, to: 3, term: t1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });
  h.collect();
  assert.equal(h.term(3), h.term(2));
});

test('vote restriction: a candidate with a shorter log cannot win', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.isolate(3);
  h.propose(1, 'only-on-1-and-2');
  h.heal();
  // 3 missed an entry: 1 and 2 refuse to vote for it.
  h.node(3).campaign();
  h.settle();
  assert.notEqual(h.leader(), 3);
  assert.deepEqual(h.applied.get(1), ['only-on-1-and-2']);
});

test('a leader commits an entry of an earlier term only by committing one of its own', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.isolate(1);
  h.node(1).propose(new TextEncoder().encode('uncommitted'));
  h.settle();
  assert.deepEqual(h.applied.get(1), []);
  h.heal();
  h.elect(2);
  // The new leader's empty entry lets everything before it commit; 1's stray entry is replaced.
  h.propose(2, 'after');
  for (const id of [1, 2, 3]) assert.deepEqual(h.applied.get(id), ['after']);
});

test('PreVote: a partitioned node rejoining does not disrupt the leader or inflate terms', () => {
  const h = new RaftHarness([1, 2, 3], { preVote: true, checkQuorum: true });
  h.elect(1);
  const term = h.term(1);
  h.isolate(3);
  for (let i = 0; i < 50; i++) {
    h.tick(3);
    h.settle();
  }
  assert.equal(h.term(3), term, 'pre-votes must not bump the isolated node term');
  h.heal();
  for (let i = 0; i < 3; i++) {
    h.tick(1);
    h.settle();
  }
  assert.equal(h.leader(), 1);
  assert.equal(h.term(1), term);
});

test('CheckQuorum: a leader that loses its majority steps down', () => {
  const h = new RaftHarness([1, 2, 3], { checkQuorum: true, electionTick: 10 });
  h.elect(1);
  h.isolate(1);
  for (let i = 0; i < 25; i++) {
    h.tick(1);
    h.settle();
  }
  assert.equal(h.state(1), StateType.Follower);
});

test('CheckQuorum lease: followers with a live leader ignore a disruptive vote request', () => {
  const h = new RaftHarness([1, 2, 3], { checkQuorum: true });
  h.elect(1);
  const term = h.term(1);
  h.node(2).step({ type: MessageType.MsgVote, from: 3, to: 2, term: term + 5, logTerm: 10, index: 100, entries: [], commit: 0, reject: false, rejectHint: 0 });
  h.collect();
  assert.equal(h.term(2), term);
  assert.equal(h.pending.filter((m) => m.type === MessageType.MsgVoteResp).length, 0);
});

test('ReadIndex: answered after a heartbeat round confirms leadership, on leader and follower', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.propose(1, 'w');
  const ctx = new TextEncoder().encode('read-1');
  h.node(1).readIndex(ctx);
  h.collect();
  const beats = h.pending.filter((m) => m.type === MessageType.MsgHeartbeat);
  assert.ok(beats.length > 0, 'a read must trigger a heartbeat round');
  h.settle();
  // Followers ask the leader and get its commit index back.
  h.node(3).readIndex(new TextEncoder().encode('read-2'));
  h.settle();
  const leaderRead = h.reads.get(1)!;
  const followerRead = h.reads.get(3)!;
  assert.equal(leaderRead[0]!.ctx, 'read-1');
  assert.ok(leaderRead[0]!.index >= 2);
  assert.equal(followerRead[0]!.ctx, 'read-2');
  assert.ok(followerRead[0]!.index >= 2);
});

test('ReadIndex: an isolated leader cannot serve a linearizable read', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.isolate(1);
  h.node(1).readIndex(new TextEncoder().encode('stale?'));
  h.settle();
  assert.equal(h.reads.get(1)?.length ?? 0, 0);
});

test('ReadIndex on 5 members: a leader that reaches only one follower is no quorum (itself counted once)', () => {
  const h = new RaftHarness([1, 2, 3, 4, 5]);
  h.elect(1);
  h.propose(1, 'w');
  h.settle();
  h.partition([1, 2], [3, 4, 5]);
  h.node(1).readIndex(new TextEncoder().encode('minority'));
  h.settle();
  assert.equal(h.reads.get(1)?.length ?? 0, 0, 'acks from itself and node 2 are 2 of 5');
  h.heal();
  h.tick(1);
  h.settle();
  assert.equal(h.reads.get(1)?.[0]?.ctx, 'minority', 'answered once a real majority acknowledges');
});

test('leadership transfer moves the leader to an up-to-date follower', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.propose(1, 'x');
  h.node(1).transferLeader(3);
  h.settle();
  assert.equal(h.leader(), 3);
  h.propose(3, 'y');
  assert.deepEqual(h.applied.get(1), ['x', 'y']);
});

test('a follower behind a compacted log catches up by snapshot', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.isolate(3);
  for (let i = 0; i < 20; i++) h.propose(1, `e${i}`);
  const s1 = h.storages.get(1)!;
  const applied = h.node(1).status().applied;
  s1.createSnapshot(applied, { voters: [1, 2, 3], learners: [] }, new TextEncoder().encode('state'));
  s1.compact(applied);
  h.heal();
  for (let i = 0; i < 5; i++) {
    h.tick(1);
    h.settle();
    h.node(1).reportSnapshot(3, true);
    h.settle();
  }
  assert.equal(h.storages.get(3)!.snapshot().metadata.index, applied);
  h.propose(1, 'after-snapshot');
  assert.deepEqual(h.applied.get(3)!.at(-1), 'after-snapshot');
});

test('a member restarts when a crash left the leader\'s snapshot on disk but not the hard state that committed it', () => {
  // Found by the simulation (seed 308586625, 3 members, follower writes in flight).
  const disk = new MemoryStorage();
  disk.applySnapshot({ metadata: { index: 5, term: 2, confState: { voters: [1, 2, 3], learners: [] } }, data: new Uint8Array() });
  disk.append([{ term: 2, index: 6, type: 0, data: new Uint8Array([1]) }]);
  disk.setHardState({ term: 2, vote: 1, commit: 4 });
  const node = new RawNode({ id: 3, electionTick: 10, heartbeatTick: 1, storage: disk, applied: 5, maxSizePerMsg: 1 << 20, maxInflightMsgs: 256, checkQuorum: true, preVote: true, rand: new Rand(1), logger: silentLogger });
  assert.deepEqual(node.status().hardState, { term: 2, vote: 1, commit: 5 });
  // Entry 6 is not known committed: it is not handed out for applying.
  assert.equal(node.hasReady(), false);
});

test('held applies: raft goes on committing and leading, and hands out what committed once the hold ends', () => {
  const h = new RaftHarness([1, 2, 3], { preVote: true, checkQuorum: true, electionTick: 10 });
  h.elect(1);
  const term = h.term(1);
  h.propose(1, 'before');
  h.node(1).holdApplies(true);
  h.propose(1, 'during-1');
  h.propose(1, 'during-2');
  // Three election timeouts of heartbeats: the leader keeps its followers.
  for (let i = 0; i < 30; i++) {
    for (const id of [1, 2, 3]) h.tick(id);
    h.settle();
  }
  assert.equal(h.state(1), StateType.Leader);
  assert.equal(h.term(2), term);
  assert.deepEqual(h.applied.get(2), ['before', 'during-1', 'during-2'], 'followers apply as usual');
  assert.deepEqual(h.applied.get(1), ['before'], 'nothing committed during the hold is handed out');
  const status = h.node(1).status();
  assert.equal(status.hardState.commit, h.node(2).status().applied, 'the leader has committed them');
  assert.equal(h.node(1).hasReady(), false, 'a commit alone makes no Ready while held');
  h.node(1).holdApplies(false);
  assert.equal(h.node(1).hasReady(), true);
  h.settle();
  assert.deepEqual(h.applied.get(1), ['before', 'during-1', 'during-2'], 'handed out in order, once');
  h.propose(1, 'after');
  assert.deepEqual(h.applied.get(1), ['before', 'during-1', 'during-2', 'after']);
});

test('learners receive entries but never vote or count toward a quorum', () => {
  const h = new RaftHarness([1, 2], { learners: [3] });
  h.elect(1);
  h.propose(1, 'to-all');
  assert.deepEqual(h.applied.get(3), ['to-all']);
  h.node(3).campaign();
  h.settle();
  assert.equal(h.state(3), StateType.Follower);
  h.isolate(2);
  h.node(1).propose(new TextEncoder().encode('needs-2'));
  h.settle();
  assert.deepEqual(h.applied.get(1), ['to-all'], 'leader + learner are not a majority of two voters');
});

test('membership: adding a voter, one change at a time, applied on commit', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.node(1).proposeConfChange({ type: 'removeNode', nodeId: 3 });
  h.node(1).proposeConfChange({ type: 'removeNode', nodeId: 2 }); // must wait: one at a time
  h.collect();
  const confEntries = h.storages.get(1)!.entries(1, h.storages.get(1)!.lastIndex() + 1, 1 << 20).filter((e) => e.type === 1);
  assert.equal(confEntries.length, 1, 'a second conf change while one is pending becomes a no-op');
  const cs = h.node(1).applyConfChange({ type: 'removeNode', nodeId: 3 });
  assert.deepEqual(cs.voters, [1, 2]);
});

test('peer down: followers of a dead leader campaign within a few ticks, not a whole election timeout', () => {
  const h = new RaftHarness([1, 2, 3], { preVote: true, checkQuorum: true, electionTick: 10 });
  h.elect(1);
  const term = h.term(1);
  h.isolate(1);
  // A report about a peer that is not the leader changes nothing.
  h.node(2).reportPeerDown(3);
  h.collect();
  assert.equal(h.node(2).status().softState.lead, 1);
  for (const id of [2, 3] as const) h.node(id).reportPeerDown(1);
  // The old leader is cut off but still believes it leads; look for a leader among 2 and 3.
  const newLeader = () => ([2, 3] as const).find((id) => h.state(id) === StateType.Leader);
  let ticks = 0;
  while (newLeader() === undefined) {
    for (const id of [2, 3] as const) h.tick(id);
    h.settle();
    ticks++;
    assert.ok(ticks <= 3, `no new leader after ${ticks} ticks`);
  }
  assert.equal(h.term(newLeader()!), term + 1);
});

test('peer down: a follower still hearing from its leader ignores a report about another peer, and a lone report cannot win votes', () => {
  const h = new RaftHarness([1, 2, 3], { preVote: true, checkQuorum: true, electionTick: 10 });
  h.elect(1);
  const term = h.term(1);
  // Only member 2 believes the leader is gone; 3 still has the leader's lease and refuses.
  h.node(2).reportPeerDown(1);
  for (let i = 0; i < 3; i++) {
    h.tick(2);
    h.settle();
  }
  assert.equal(h.leader(), 1);
  assert.equal(h.term(1), term);
});

test('proposals taken together reach raft as one MsgProp: one append per follower, in order', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  const enc = (s: string) => new TextEncoder().encode(s);
  for (const x of ['p', 'q', 'r']) h.node(1).propose(enc(x));
  h.collect();
  const appends = h.pending.filter((m) => m.type === MessageType.MsgApp);
  assert.deepEqual(appends.map((m) => [m.to, m.entries.length]).sort(), [[2, 3], [3, 3]], 'each follower gets the three entries in one append');
  h.settle();
  for (const id of [1, 2, 3]) assert.deepEqual(h.applied.get(id), ['p', 'q', 'r']);
  // A follower forwards what it took together as one message too.
  for (const x of ['s', 't']) h.node(2).propose(enc(x));
  h.collect();
  const forwarded = h.pending.filter((m) => m.type === MessageType.MsgProp);
  assert.deepEqual(forwarded.map((m) => [m.from, m.to, m.entries.length]), [[2, 1, 2]]);
  h.settle();
  for (const id of [1, 2, 3]) assert.deepEqual(h.applied.get(id), ['p', 'q', 'r', 's', 't']);
});

test('held proposals reach raft before whatever is stepped after them', () => {
  const h = new RaftHarness([1, 2, 3]);
  h.elect(1);
  h.node(2).propose(new TextEncoder().encode('first'));
  // A campaign of member 3 reaches member 2 after the proposal: raft must see the proposal first
  // and forward it to the leader it knew then, as it would have had the proposal been stepped at once.
  h.node(3).campaign();
  const votes = h.node(3).ready();
  h.node(3).advance(votes);
  for (const m of votes.messages.filter((x) => x.to === 2)) h.node(2).step(m);
  assert.equal(h.node(2).status().softState.lead, 0, 'member 2 knows no leader after the campaign');
  h.collect();
  const forwarded = h.pending.filter((m) => m.type === MessageType.MsgProp);
  assert.deepEqual(forwarded.map((m) => [m.from, m.to, new TextDecoder().decode(m.entries[0]!.data)]), [[2, 1, 'first']]);
  assert.throws(() => h.node(2).propose(new Uint8Array([1])), ProposalDroppedError, 'a proposal after the campaign is refused at once');
});
