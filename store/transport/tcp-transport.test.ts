import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { silentLogger } from '../../lib/log.ts';
import { freePort } from '../../lib/testing/ports.ts';
import { waitFor } from '../../lib/testing/process.ts';
import { MessageType, type Message } from '../raft/types.ts';
import { FrameReader, encodeFrame } from './frames.ts';
import { BINARY_BATCH_MARK, decodeBinaryBatch, encodeBinaryFrame } from './message-codec.ts';
import { BINARY_BATCHES, TcpPeerTransport, type LinkLiveness } from './tcp-transport.ts';
import { unpack } from 'msgpackr';
import { PeerRelay } from '../cluster-tests/relay.ts';
import { autoTlsMaterial, type TlsMaterial } from './tls-material.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const heartbeat = (from: number, to: number, term = 1): Message => ({ type: MessageType.MsgHeartbeat, from, to, term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });

/** Connects, sends a handshake and one message frame; resolves true if the peer hung up on us. */
function intrude(port: number, handshake: unknown, msg: Message): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(encodeFrame(handshake));
      s.write(encodeFrame([msg]));
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 1500);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    s.on('error', () => {});
  });
}

interface PairOptions {
  /** Member 2 reaches member 1 through a PeerRelay, returned as `relay`. */
  relay?: boolean;
  livenessA?: Partial<LinkLiveness>;
  livenessB?: Partial<LinkLiveness>;
  /** Both listen and dial with this material (https:// peer URLs). */
  tls?: TlsMaterial;
}

/** Members 1 (a) and 2 (b) of cluster c1, each knowing the other; `a` records what it receives. */
async function twoMembers(t: TestContext, o: PairOptions = {}): Promise<{ a: TcpPeerTransport; b: TcpPeerTransport; portA: number; received: Message[]; relay: PeerRelay }> {
  const [portA, portB] = [await freePort(), await freePort()];
  const scheme = o.tls ? 'https' : 'http';
  const received: Message[] = [];
  const mk = (id: number, port: number, liveness: Partial<LinkLiveness> | undefined, onMessage: (m: Message) => void) =>
    new TcpPeerTransport({ selfId: id, clusterId: 'c1', listenUrls: [`${scheme}://127.0.0.1:${port}`], logger: silentLogger, liveness, tls: o.tls, onMessage, onUnreachable: () => {}, onSnapshotStatus: () => {}, onPeerDown: () => {} });
  const a = mk(1, portA, o.livenessA, (m) => received.push(m));
  const b = mk(2, portB, o.livenessB, () => {});
  const relay = new PeerRelay(portA);
  const portToA = o.relay ? await relay.start() : portA;
  t.after(async () => {
    await a.stop();
    await b.stop();
    await relay.stop();
  });
  await Promise.all([a.ready(), b.ready()]);
  a.addPeer(2, [`${scheme}://127.0.0.1:${portB}`]);
  b.addPeer(1, [`${scheme}://127.0.0.1:${portToA}`]);
  return { a, b, portA, received, relay };
}

/** Sends heartbeats of `term` from b until a has one. */
function heartbeatArrives(b: TcpPeerTransport, received: Message[], term: number, timeoutMs: number): Promise<void> {
  return waitFor(`a heartbeat of term ${term} from member 2`, () => {
    b.send([heartbeat(2, 1, term)]);
    return received.some((m) => m.term === term);
  }, timeoutMs, 50);
}

/** Settings that never judge a link dead within a test. */
const NEVER_DEAD: Partial<LinkLiveness> = { deadAfterMs: 600_000, dialTimeoutMs: 600_000 };
const QUICK: Partial<LinkLiveness> = { pingEveryMs: 100, deadAfterMs: 500, dialTimeoutMs: 500 };

test('the peer port delivers only from members of this cluster', { timeout: 30_000 }, async (t) => {
  const { b, portA, received } = await twoMembers(t);

  // A member of the cluster gets through.
  await waitFor('a heartbeat from member 2', () => {
    b.send([heartbeat(2, 1)]);
    return received.some((m) => m.from === 2);
  }, 10_000, 100);

  // Intruders send term 77, so whatever arrives with it came from them.
  // Another cluster, a stranger, and a member impersonated from a stranger's connection.
  assert.equal(await intrude(portA, { hello: 'berth-peer/1', clusterId: 'other-cluster', from: 2 }, heartbeat(2, 1, 77)), true, 'a peer from another cluster was kept');
  assert.equal(await intrude(portA, { hello: 'berth-peer/1', clusterId: 'c1', from: 99 }, heartbeat(99, 1, 77)), true, 'a non-member was kept');
  assert.equal(await intrude(portA, { hello: 'nope' }, heartbeat(2, 1, 77)), true, 'a connection without a handshake was kept');
  assert.equal(received.filter((m) => m.term === 77).length, 0, `intruders' messages were delivered: ${JSON.stringify(received)}`);

  // A member connection cannot speak for someone else either.
  const spoofed = await intrude(portA, { hello: 'berth-peer/1', clusterId: 'c1', from: 2 }, heartbeat(3, 1, 77));
  assert.equal(spoofed, false, 'a member connection was dropped');
  assert.equal(received.filter((m) => m.term === 77).length, 0, 'a message claiming another sender was delivered');
});

// The node may block on its own durable write right after send(): a frame left for a later
// turn of the event loop would reach the followers only after that write.
test('send() writes each peer one frame before it returns', { timeout: 30_000 }, async (t) => {
  const { b, received } = await twoMembers(t);
  await waitFor('member 2 connected to member 1', () => {
    b.send([heartbeat(2, 1)]);
    return received.length > 0;
  }, 10_000, 100);

  const frames = b.framesSent;
  b.send([heartbeat(2, 1, 5), heartbeat(2, 1, 6), heartbeat(2, 1, 7)]);
  assert.equal(b.framesSent - frames, 1, 'three messages for one peer went out as one frame, at once');
  await waitFor('the three heartbeats', () => [5, 6, 7].every((term) => received.some((m) => m.term === term)), 10_000, 10);
});

// A link can die without a FIN or RST (packets dropped, the far end's state gone). TCP alone
// would keep writing into it; the probes must notice, on both ends.
test('a sender closes a link that stopped answering and dials again', { timeout: 30_000 }, async (t) => {
  const { b, received, relay } = await twoMembers(t, { relay: true, livenessA: NEVER_DEAD, livenessB: QUICK });
  await heartbeatArrives(b, received, 1, 10_000);
  relay.silence(2);
  relay.heal(); // new connections pass again; the silenced one stays lost
  await heartbeatArrives(b, received, 2, 5_000);
});

test('a receiver closes an inbound link that went silent', { timeout: 30_000 }, async (t) => {
  const { b, received, relay } = await twoMembers(t, { relay: true, livenessA: QUICK, livenessB: NEVER_DEAD });
  await heartbeatArrives(b, received, 1, 10_000);
  relay.silence(2);
  await waitFor('member 1 to close the silent link', () => relay.openFrom(2) === 0, 5_000, 50);
});

// Right after our own event loop stalls, the timer that judges links runs before the answers
// that arrived meanwhile are read: that silence is ours, not the link's.
test('a stall of our own event loop does not close healthy links', { timeout: 30_000 }, async (t) => {
  const { b, received, relay } = await twoMembers(t, { relay: true, livenessA: QUICK, livenessB: QUICK });
  await heartbeatArrives(b, received, 1, 10_000);
  await new Promise((r) => setTimeout(r, 300)); // a few probes answered
  const until = performance.now() + 1500;
  while (performance.now() < until); // both members share this process and its loop
  await new Promise((r) => setTimeout(r, 1000));
  await heartbeatArrives(b, received, 2, 5_000);
  assert.equal(relay.forwarded, 1, 'member 2 dialled member 1 again after the stall');
});

test('a dial that does not complete is given up and tried again', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-peer-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tls = autoTlsMaterial(dir, ['127.0.0.1']);
  const { b, received, portA } = await twoMembers(t, { tls, livenessA: NEVER_DEAD, livenessB: { ...NEVER_DEAD, dialTimeoutMs: 300 } });
  // A gate in front of member 1: while shut it accepts TCP but passes no bytes, so a TLS
  // handshake through it never ends; once open, it passes new connections through.
  let open = false;
  const held = new Set<Socket>();
  const gate = createServer((c) => {
    c.on('error', () => {});
    if (!open) return void held.add(c.on('data', () => {}));
    const up = connect(portA, '127.0.0.1');
    up.on('error', () => c.destroy());
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
    c.pipe(up).pipe(c);
  });
  await new Promise<void>((r) => gate.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const c of held) c.destroy();
    gate.close();
  });
  b.updatePeer(1, [`https://127.0.0.1:${(gate.address() as AddressInfo).port}`]);
  await waitFor('member 2 to dial through the shut gate', () => held.size > 0, 5_000, 20);
  open = true;
  await heartbeatArrives(b, received, 1, 5_000);
});

// Right after a partition heals, a follower's link to the leader is often still being dialled
// when its first forwarded write goes out.
test('what is sent while a link is being dialled goes out once it connects', { timeout: 30_000 }, async (t) => {
  const { b, received } = await twoMembers(t);
  b.send([heartbeat(2, 1, 9)]); // addPeer began the dial a moment ago; it cannot be done yet
  await waitFor('the heartbeat sent while dialling', () => received.some((m) => m.term === 9), 5_000, 10);
});

/**
 * A peer listener that records each frame body as it arrived, acknowledging the handshake
 * with `reads` (as a member does) or not at all (as members before binary batches did).
 */
async function recordingPeer(t: TestContext, reads: string[] | null): Promise<{ port: number; bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const body = buf.subarray(4, 4 + buf.readUInt32BE(0));
        buf = buf.subarray(4 + body.length);
        if (bodies.length === 0 && reads) s.write(encodeFrame({ ack: 'berth-peer/1', reads }));
        bodies.push(body);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, bodies };
}

async function dialler(t: TestContext, peerPort: number): Promise<TcpPeerTransport> {
  const port = await freePort();
  const b = new TcpPeerTransport({ selfId: 2, clusterId: 'c1', listenUrls: [`http://127.0.0.1:${port}`], logger: silentLogger, liveness: NEVER_DEAD, onMessage: () => {}, onUnreachable: () => {}, onSnapshotStatus: () => {}, onPeerDown: () => {} });
  t.after(() => b.stop());
  await b.ready();
  b.addPeer(1, [`http://127.0.0.1:${peerPort}`]);
  return b;
}

const withEntry = (term: number): Message => ({ ...heartbeat(2, 1, term), type: MessageType.MsgApp, index: 4, logTerm: 1, entries: [{ term, index: 5, type: 0, data: new Uint8Array([9, 8, 7]) }] });

// A member from before binary batches cannot read them: it must keep getting msgpack.
test('a link sends msgpack to a peer that never said it reads binary batches', { timeout: 30_000 }, async (t) => {
  const peer = await recordingPeer(t, null);
  const b = await dialler(t, peer.port);
  await waitFor('two frames after the handshake', () => {
    b.send([withEntry(3)]);
    return peer.bodies.length >= 3;
  }, 10_000, 50);
  for (const body of peer.bodies.slice(1)) {
    assert.notEqual(body[0], BINARY_BATCH_MARK, 'a binary batch went to a peer that cannot read it');
    const [m] = unpack(body) as Message[];
    assert.equal(m!.term, 3);
    assert.deepEqual([...m!.entries[0]!.data], [9, 8, 7]);
  }
});

test('a link switches to binary batches once the peer acknowledges them', { timeout: 30_000 }, async (t) => {
  const peer = await recordingPeer(t, ['something-else/9', BINARY_BATCHES]);
  const b = await dialler(t, peer.port);
  await waitFor('a binary batch', () => {
    b.send([withEntry(4)]);
    return peer.bodies.some((body) => body[0] === BINARY_BATCH_MARK);
  }, 10_000, 50);
  const binary = peer.bodies.find((body) => body[0] === BINARY_BATCH_MARK)!;
  assert.deepStrictEqual(decodeBinaryBatch(binary), [withEntry(4)]);
});

test('a member acknowledges the handshake and delivers binary batches', { timeout: 30_000 }, async (t) => {
  const { portA, received } = await twoMembers(t);
  const answers = new FrameReader();
  const heard: unknown[] = [];
  const s = connect(portA, '127.0.0.1', () => {
    s.write(encodeFrame({ hello: 'berth-peer/1', clusterId: 'c1', from: 2 }));
    s.write(encodeBinaryFrame([withEntry(88)]));
  });
  s.on('data', (chunk: Buffer) => heard.push(...answers.push(chunk)));
  s.on('error', () => {});
  t.after(() => s.destroy());
  await waitFor('the binary batch delivered', () => received.some((m) => m.term === 88), 5_000, 10);
  const m = received.find((x) => x.term === 88)!;
  assert.deepEqual([...m.entries[0]!.data], [9, 8, 7]);
  assert.deepEqual(heard[0], { ack: 'berth-peer/1', reads: [BINARY_BATCHES] });
});
