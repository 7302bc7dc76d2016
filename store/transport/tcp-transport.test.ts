import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { silentLogger } from '../../lib/log.ts';
import { freePort } from '../../lib/testing/ports.ts';
import { waitFor } from '../../lib/testing/process.ts';
import { MessageType, type Message } from '../raft/types.ts';
import { encodeFrame } from './frames.ts';
import { TcpPeerTransport } from './tcp-transport.ts';

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

/** Members 1 (a) and 2 (b) of cluster c1, each knowing the other; `a` records what it receives. */
async function twoMembers(t: TestContext): Promise<{ a: TcpPeerTransport; b: TcpPeerTransport; portA: number; received: Message[] }> {
  const [portA, portB] = [await freePort(), await freePort()];
  const received: Message[] = [];
  const mk = (id: number, port: number, onMessage: (m: Message) => void) =>
    new TcpPeerTransport({ selfId: id, clusterId: 'c1', listenUrls: [`http://127.0.0.1:${port}`], logger: silentLogger, onMessage, onUnreachable: () => {}, onSnapshotStatus: () => {}, onPeerDown: () => {} });
  const a = mk(1, portA, (m) => received.push(m));
  const b = mk(2, portB, () => {});
  t.after(async () => {
    await a.stop();
    await b.stop();
  });
  await Promise.all([a.ready(), b.ready()]);
  a.addPeer(2, [`http://127.0.0.1:${portB}`]);
  b.addPeer(1, [`http://127.0.0.1:${portA}`]);
  return { a, b, portA, received };
}

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
