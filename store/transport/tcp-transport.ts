/**
 * Peer messages over persistent TCP connections: one outbound connection per peer carrying
 * length-prefixed frames, each frame a batch of the messages one `send()` has for that peer.
 * Each connection opens with a handshake naming the cluster and the sender; a peer from another
 * cluster is refused. The accepting side answers with what it reads besides msgpack; batches go
 * out in the binary layout (message-codec.ts) once that answer names it, in msgpack until then
 * and to peers that predate it. Snapshots travel on their own short-lived connection so
 * heartbeats never wait behind them. Each link is probed (PING/PONG): a link that went silent
 * without a FIN or RST is closed and dialled anew instead of waiting on TCP's retransmission
 * back-off, which after a long partition can hold it shut for many seconds.
 *
 *   new TcpPeerTransport({ selfId, clusterId, listenUrls, logger, metrics, onMessage, onUnreachable, onSnapshotStatus, onPeerDown })
 */
import { ListenError } from '../../lib/errors.ts';
import { createServer, connect, isIP, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { Gauge, type Histogram, type Registry } from 'prom-client';
import type { Logger } from '../../lib/log.ts';
import { MessageType, type Message, type NodeId } from '../raft/types.ts';
import type { PeerEvents, PeerTransport } from '../node/peer-transport.ts';
import type { FollowerStats } from '../node/types.ts';
import { byPeer, coalesceMessages } from '../raft/coalesce.ts';
import { FrameReader, PING, PING_FRAME, PONG_FRAME, encodeFrame } from './frames.ts';
import { encodeBinaryFrame } from './message-codec.ts';
import type { TlsMaterial } from './tls-material.ts';

export interface TcpTransportOptions extends PeerEvents {
  selfId: NodeId;
  clusterId: string;
  listenUrls: string[];
  logger: Logger;
  metrics?: Registry;
  /** Messages one send() may carry for one peer; a larger batch is dropped (raft sends again). */
  maxQueue?: number;
  /** Peer TLS (--peer-cert-file...): used to listen on https:// peer URLs and to dial them. */
  tls?: TlsMaterial;
  /** --peer-client-cert-auth: inbound peers must present a certificate signed by `tls.ca`. */
  clientCertAuth?: boolean;
  liveness?: Partial<LinkLiveness>;
}

/** How a link proves it is alive. */
export interface LinkLiveness {
  /** An outbound link sends PING this often; the inbound side answers PONG. */
  pingEveryMs: number;
  /** A link that heard nothing for this long is closed (outbound: then dialled again). */
  deadAfterMs: number;
  /** A dial (TCP and TLS handshakes) not done by then is given up and tried again. */
  dialTimeoutMs: number;
}

/** etcd closes a peer stream that read nothing for 5 s; ping at a fifth of that. */
export const DEFAULT_LIVENESS: LinkLiveness = { pingEveryMs: 1000, deadAfterMs: 5000, dialTimeoutMs: 2000 };

/** Opens a connection to a peer URL: TLS for https://, plain TCP for http://. */
export function dialPeer(url: string, tls: TlsMaterial | undefined): { socket: Socket; connectEvent: 'connect' | 'secureConnect' } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port);
  if (u.protocol !== 'https:') return { socket: connect({ host, port }), connectEvent: 'connect' };
  // An --auto-tls certificate is self-signed: like etcd, encrypt but do not verify it.
  const socket = tlsConnect({ host, port, cert: tls?.cert, key: tls?.key, ca: tls?.ca, rejectUnauthorized: !tls?.selfSigned, servername: isIP(host) ? undefined : host });
  return { socket, connectEvent: 'secureConnect' };
}

interface Handshake {
  hello: 'berth-peer/1';
  clusterId: string;
  from: NodeId;
}

/** The name under which a member offers to read message-codec.ts batches. */
export const BINARY_BATCHES = 'raft-binary/1';

/** The accepting side's answer to a handshake: the frame forms it reads besides msgpack. */
interface HandshakeAck {
  ack: 'berth-peer/1';
  reads: string[];
}

const ACK_FRAME = encodeFrame({ ack: 'berth-peer/1', reads: [BINARY_BATCHES] } satisfies HandshakeAck);

function readsBinary(f: unknown): boolean {
  const a = f as Partial<HandshakeAck> | null;
  return typeof a === 'object' && a !== null && a.ack === 'berth-peer/1' && Array.isArray(a.reads) && a.reads.includes(BINARY_BATCHES);
}

class LatencyStats {
  current = 0;
  sum = 0;
  sumSq = 0;
  n = 0;
  min = Infinity;
  max = 0;
  success = 0;
  fail = 0;

  record(ms: number): void {
    this.current = ms;
    this.sum += ms;
    this.sumSq += ms * ms;
    this.n++;
    this.min = Math.min(this.min, ms);
    this.max = Math.max(this.max, ms);
  }

  view(): FollowerStats {
    const avg = this.n ? this.sum / this.n : 0;
    const sd = this.n ? Math.sqrt(Math.max(0, this.sumSq / this.n - avg * avg)) : 0;
    return {
      latency: { current: this.current, average: avg, standardDeviation: sd, minimum: this.n ? this.min : 0, maximum: this.max },
      counts: { success: this.success, fail: this.fail },
    };
  }
}

class PeerLink {
  private socket: Socket | null = null;
  private connected = false;
  private backoffMs = 50;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Connected at least once since the last down report: a refusal now means the peer died. */
  private wasUp = false;
  /** performance.now() of the last bytes the peer sent back on this link. */
  private heardAt = 0;
  /** Frames sent while the link was being dialled: written once it connects, dropped if it fails. */
  private held: Buffer[] = [];
  private heldMessages = 0;
  /** The peer said it reads binary batches, on the connection now open. */
  binary = false;
  readonly stats = new LatencyStats();
  heartbeatSentAt = 0;

  constructor(
    readonly id: NodeId,
    public urls: string[],
    private readonly t: TcpPeerTransport,
  ) {
    this.dial();
  }

  private dial(): void {
    if (this.closed) return;
    const { socket: s, connectEvent } = dialPeer(this.urls[0]!, this.t.tls);
    const { dialTimeoutMs } = this.t.liveness;
    this.socket = s;
    this.binary = false;
    s.setNoDelay(true);
    // Without a bound, a SYN lost in a partition waits for the kernel's retries (up to minutes).
    const dialTimer = setTimeout(() => {
      this.t.logger.debug({ peer: this.id.toString(16), ms: dialTimeoutMs }, 'peer dial timed out; dialling again');
      s.destroy();
    }, dialTimeoutMs);
    const reader = new FrameReader();
    s.on(connectEvent, () => {
      clearTimeout(dialTimer);
      this.connected = true;
      this.wasUp = true;
      this.backoffMs = 50;
      this.heardAt = performance.now();
      s.write(encodeFrame(this.t.handshake()));
      for (const frame of this.held) s.write(frame);
      this.t.framesSent += this.held.length;
      this.stats.success += this.heldMessages;
      this.held = [];
      this.heldMessages = 0;
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      // Only a refusal proves the process is gone; a timeout may be a partition.
      if (e.code === 'ECONNREFUSED' && this.wasUp) {
        this.wasUp = false;
        this.t.reportPeerDown(this.id);
      }
    });
    s.on('close', () => {
      clearTimeout(dialTimer);
      this.connected = false;
      this.socket = null;
      if (this.heldMessages > 0) {
        this.stats.fail += this.heldMessages;
        this.held = [];
        this.heldMessages = 0;
        this.t.reportUnreachable(this.id);
      }
      if (this.closed) return;
      const jitter = this.t.jitter(this.backoffMs);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.dial();
      }, jitter);
      this.backoffMs = Math.min(this.backoffMs * 2, 1000);
    });
    // The peer only ever acknowledges our handshake and answers our probes on this link.
    s.on('data', (chunk: Buffer) => {
      try {
        for (const f of reader.push(chunk)) if (readsBinary(f) && this.socket === s) this.binary = true;
        this.heardAt = performance.now();
      } catch (e) {
        this.t.logger.warn({ peer: this.id.toString(16), err: String(e) }, 'closing a peer link that answered with a bad frame');
        s.destroy();
      }
    });
  }

  /**
   * The peer just reached us, so it is reachable now: a link waiting out its back-off dials at
   * once instead of dropping what we send it for up to a second (after a partition heals, both
   * sides would otherwise wait their own back-off).
   */
  dialNowIfWaiting(): void {
    if (this.closed || this.socket || !this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.backoffMs = 50;
    this.dial();
  }

  /** Seconds since the peer last answered on this link; -1 while it is not connected. */
  silentSeconds(now: number): number {
    return this.connected ? (now - this.heardAt) / 1000 : -1;
  }

  /** Pings the peer, or closes the link (to dial it again) when `judge` and it has been silent too long. */
  probe(now: number, judge: boolean): void {
    if (!this.connected || !this.socket) return;
    const silentMs = now - this.heardAt;
    if (!judge || silentMs < this.t.liveness.deadAfterMs) return void this.socket.write(PING_FRAME);
    this.t.logger.warn({ peer: this.id.toString(16), silentMs: Math.round(silentMs) }, 'peer link heard nothing; closing it and dialling again');
    this.socket.destroy();
  }

  /** Writes `batch` (one send()'s messages for this peer) as one frame, or counts it lost. */
  send(batch: Message[]): void {
    if (!this.connected && this.socket && this.heldMessages + batch.length <= this.t.maxQueue) {
      // A link being dialled holds what comes meanwhile: right after a partition heals, a
      // follower's first forwarded write would otherwise be lost and wait out its timeout.
      this.held.push(encodeFrame(coalesceMessages(batch)));
      this.heldMessages += batch.length;
      return;
    }
    if (!this.connected || !this.socket || batch.length > this.t.maxQueue) {
      this.stats.fail += batch.length;
      this.t.reportUnreachable(this.id);
      return;
    }
    if (this.heartbeatSentAt === 0 && batch.some((m) => m.type === MessageType.MsgHeartbeat)) this.heartbeatSentAt = performance.now();
    this.t.framesSent++;
    const msgs = coalesceMessages(batch);
    // MsgSnap never comes here: send() gives snapshots their own connection.
    this.socket.write(this.binary ? encodeBinaryFrame(msgs) : encodeFrame(msgs));
    this.stats.success += batch.length;
  }

  heartbeatAnswered(): void {
    if (this.heartbeatSentAt === 0) return;
    const ms = performance.now() - this.heartbeatSentAt;
    this.heartbeatSentAt = 0;
    this.stats.record(ms);
    this.t.rtt?.observe({ To: this.id.toString(16) }, ms / 1000);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket?.destroy();
  }
}

export class TcpPeerTransport implements PeerTransport {
  private readonly servers: Server[] = [];
  private readonly links = new Map<NodeId, PeerLink>();
  /**
   * Inbound connections. `heard` is set by every chunk (no clock read on the receive path) and
   * turned into `heardAt` by the next probe round, so silence is measured to within a round.
   */
  private readonly inbound = new Map<Socket, { heard: boolean; heardAt: number }>();
  private readonly prober: NodeJS.Timeout;
  private lastProbeAt = performance.now();
  readonly maxQueue: number;
  readonly rtt: Histogram<'To'> | undefined;
  readonly tls: TlsMaterial | undefined;
  readonly liveness: LinkLiveness;
  readonly logger: Logger;
  /** Frames written (each a batch): batching means far fewer than messages. */
  framesSent = 0;
  private stopped = false;
  private listening: Promise<void>;

  constructor(private readonly o: TcpTransportOptions) {
    this.maxQueue = o.maxQueue ?? 4096;
    this.tls = o.tls;
    this.liveness = { ...DEFAULT_LIVENESS, ...o.liveness };
    this.logger = o.logger;
    this.rtt = o.metrics?.getSingleMetric('etcd_network_peer_round_trip_time_seconds') as Histogram<'To'> | undefined;
    // One transport per member process; a second one on the same registry (tests) is not shown.
    if (o.metrics && !o.metrics.getSingleMetric('berth_peer_link_silent_seconds')) {
      const links = this.links;
      new Gauge({
        name: 'berth_peer_link_silent_seconds',
        help: 'Seconds since each peer last answered on our link to it (its pongs); -1 while the link is down.',
        labelNames: ['To'],
        registers: [o.metrics],
        collect() {
          this.reset();
          const now = performance.now();
          for (const [id, link] of links) this.set({ To: id.toString(16) }, link.silentSeconds(now));
        },
      });
    }
    this.prober = setInterval(() => this.probeLinks(), this.liveness.pingEveryMs);
    this.prober.unref();
    this.listening = Promise.all(o.listenUrls.map((u) => this.listen(u))).then(() => undefined);
    this.listening.catch((e: unknown) => this.logger.error({ err: String(e) }, 'cannot listen for peers'));
  }

  ready(): Promise<void> {
    return this.listening;
  }

  handshake(): Handshake {
    return { hello: 'berth-peer/1', clusterId: this.o.clusterId, from: this.o.selfId };
  }

  jitter(ms: number): number {
    return ms / 2 + ((this.o.selfId * 7919 + Date.now()) % Math.max(1, Math.floor(ms / 2)));
  }

  reportUnreachable(id: NodeId): void {
    if (!this.stopped) this.o.onUnreachable(id);
  }

  reportPeerDown(id: NodeId): void {
    if (this.stopped) return;
    this.logger.info({ peer: id.toString(16) }, 'peer refuses connections: its process is gone');
    this.o.onPeerDown(id);
  }

  private listen(url: string): Promise<void> {
    const u = new URL(url);
    let server: Server;
    if (u.protocol === 'https:') {
      if (!this.o.tls) throw new Error(`${url}: an https:// peer URL needs --peer-cert-file and --peer-key-file (or --peer-auto-tls)`);
      const verify = this.o.clientCertAuth ?? false;
      server = createTlsServer({ cert: this.o.tls.cert, key: this.o.tls.key, ca: this.o.tls.ca, requestCert: verify, rejectUnauthorized: verify, handshakeTimeout: 10_000 }, (s) => this.accept(s));
      server.on('tlsClientError', (err, sock) => {
        this.logger.warn({ err: err.message, remote: sock.remoteAddress }, 'refused a peer connection: TLS handshake failed');
        sock.destroy();
      });
    } else {
      server = createServer((s) => this.accept(s));
    }
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new ListenError('--listen-peer-urls', url, e)));
      server.listen(Number(u.port), u.hostname.replace(/^\[|\]$/g, ''), () => resolve());
    });
  }

  private accept(s: Socket): void {
    const seen = { heard: false, heardAt: performance.now() };
    this.inbound.set(s, seen);
    s.setNoDelay(true);
    const reader = new FrameReader();
    let peer: NodeId | null = null;
    // A connection that never introduces itself must not hold a socket forever.
    const handshakeTimer = setTimeout(() => {
      if (peer === null) s.destroy();
    }, 10_000);
    handshakeTimer.unref();
    s.on('data', (chunk: Buffer) => {
      seen.heard = true;
      let frames: unknown[];
      try {
        frames = reader.push(chunk);
      } catch (e) {
        this.logger.warn({ err: String(e), remote: s.remoteAddress }, 'closing a peer connection that sent a bad frame');
        s.destroy();
        return;
      }
      for (const f of frames) {
        if (peer === null) {
          const h = f as Partial<Handshake>;
          if (h?.hello !== 'berth-peer/1' || typeof h.from !== 'number') {
            this.logger.warn({ remote: s.remoteAddress }, 'refused a peer connection without a berth handshake');
            s.destroy();
            return;
          }
          if (this.o.clusterId && h.clusterId && h.clusterId !== this.o.clusterId) {
            this.logger.warn({ remote: s.remoteAddress, theirCluster: h.clusterId, ourCluster: this.o.clusterId }, 'refused a peer from another cluster');
            s.destroy();
            return;
          }
          if (!this.links.has(h.from)) {
            this.logger.warn({ remote: s.remoteAddress, from: h.from.toString(16) }, 'refused a peer that is not a member of this cluster');
            s.destroy();
            return;
          }
          peer = h.from;
          clearTimeout(handshakeTimer);
          s.write(ACK_FRAME);
          this.links.get(peer)?.dialNowIfWaiting();
          continue;
        }
        if (f === PING) s.write(PONG_FRAME);
        if (!Array.isArray(f)) continue;
        for (const m of f as Message[]) this.deliver(peer, m);
      }
    });
    s.on('error', () => {});
    s.on('close', () => this.inbound.delete(s));
  }

  /**
   * Pings every outbound link and closes links silent for deadAfterMs (inbound ones too: their
   * peer pings them). Right after a stall of our own event loop, answers may still sit unread,
   * so that round pings and judges no one.
   */
  private probeLinks(): void {
    const now = performance.now();
    const judge = now - this.lastProbeAt < 2 * this.liveness.pingEveryMs;
    this.lastProbeAt = now;
    for (const link of this.links.values()) link.probe(now, judge);
    for (const [s, seen] of this.inbound) {
      if (seen.heard) {
        seen.heard = false;
        seen.heardAt = now;
      }
      if (!judge || now - seen.heardAt < this.liveness.deadAfterMs) continue;
      this.logger.warn({ remote: s.remoteAddress, silentMs: Math.round(now - seen.heardAt) }, 'closing an inbound peer link that went silent');
      s.destroy();
    }
  }

  private deliver(from: NodeId, m: Message): void {
    if (this.stopped || m.from !== from || m.to !== this.o.selfId) return;
    // msgpack hands out views into the frame (Buffers): copied, so the raft log does not pin
    // whole frames. A binary batch was decoded into copies already.
    if (m.entries) for (const e of m.entries) if (!e.data || Buffer.isBuffer(e.data)) e.data = new Uint8Array(e.data ?? []);
    if (m.snapshot) m.snapshot.data = new Uint8Array(m.snapshot.data);
    if (m.context && Buffer.isBuffer(m.context)) m.context = new Uint8Array(m.context);
    if (m.type === MessageType.MsgHeartbeatResp) this.links.get(from)?.heartbeatAnswered();
    this.o.onMessage(m);
  }

  /**
   * Each peer's messages go out as one frame before this returns: the node may block on its own
   * durable write next, and the followers should be writing theirs meanwhile.
   */
  send(msgs: Message[]): void {
    const rest: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) this.sendSnapshot(m);
      else rest.push(m);
    }
    for (const [to, batch] of byPeer(rest)) {
      const link = this.links.get(to);
      if (link) link.send(batch);
      else this.reportUnreachable(to);
    }
  }

  /** A snapshot on its own connection; reports success once it is fully written. */
  private sendSnapshot(m: Message): void {
    const link = this.links.get(m.to);
    if (!link) return this.o.onSnapshotStatus(m.to, false);
    const { socket: s, connectEvent } = dialPeer(link.urls[0]!, this.tls);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      if (!this.stopped) this.o.onSnapshotStatus(m.to, ok);
    };
    s.on(connectEvent, () => {
      s.write(encodeFrame(this.handshake()));
      s.end(encodeFrame([m]), () => finish(true));
    });
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  }

  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.o.selfId || this.links.has(id) || this.stopped) return;
    this.links.set(id, new PeerLink(id, urls, this));
  }

  removePeer(id: NodeId): void {
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  updatePeer(id: NodeId, urls: string[]): void {
    this.removePeer(id);
    this.addPeer(id, urls);
  }

  stats(): Map<NodeId, FollowerStats> {
    return new Map([...this.links].map(([id, l]) => [id, l.stats.view()]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const l of this.links.values()) l.close();
    this.links.clear();
    clearInterval(this.prober);
    for (const s of this.inbound.keys()) s.destroy();
    await Promise.all(this.servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
}
