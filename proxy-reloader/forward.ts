/**
 * Forwards plain HTTP requests to upstreams over keep-alive connections, one pool per upstream.
 * Our own HTTP/1.1 client (upstream-connection.ts) rather than a general one: the proxy needs only
 * to write a head, stream a body and frame the answer, and at this much per request a general
 * client's queues, abort signals and request objects were a tenth of the proxy's CPU. WebSocket
 * upgrades go through http-proxy instead. Hop-by-hop fields are dropped both ways and
 * X-Forwarded-For/Host/Proto/Port added.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { hasBody } from '../lib/http-body.ts';
import { connectionTokens } from './response-parser.ts';
import { UpstreamConnection, type AnswerSink, type ConnectionOwner } from './upstream-connection.ts';

/** RFC 9110 7.6.1 connection-specific fields, plus the ones this client frames itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'expect', 'proxy-authorization', 'proxy-authenticate']);

/** Idle connections kept per upstream (nginx's `keepalive`); more are closed when they come back. */
const MAX_IDLE_PER_UPSTREAM = 256;
/** How long an idle connection is reused when the upstream gave no Keep-Alive timeout. */
const IDLE_REUSE_MS = 30_000;
/** Stop reusing this long before the upstream's own Keep-Alive timeout, so we never race its close. */
const KEEP_ALIVE_MARGIN_MS = 1000;

export interface ForwardTarget {
  readonly address: string;
  readonly host: string;
  readonly port: number;
}

/** Field names a Connection header lists (RFC 9110 7.6.1: those are hop-by-hop too), or null. */
function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const names = connectionTokens(Array.isArray(value) ? value.join(',') : value);
  const listed = new Set(names.filter((n) => n !== '' && n !== 'close' && n !== 'keep-alive'));
  return listed.size > 0 ? listed : null;
}

/**
 * The head sent upstream: the client's request line and fields without hop-by-hop ones, plus
 * X-Forwarded-*, and the framing of a body when there is one (`chunked`: re-chunked, since the
 * server hands us the body decoded).
 */
function requestHead(req: IncomingMessage, target: ForwardTarget, body: 'none' | 'length' | 'chunked'): string {
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  let head = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
  let xff: string | undefined;
  let host = false;
  let xfHost = false;
  let xfProto = false;
  let xfPort = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    if (lower === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1]! : `${xff}, ${raw[i + 1]!}`;
      continue;
    }
    if (lower === 'content-length' && body !== 'length') continue;
    if (lower === 'host') host = true;
    else if (lower === 'x-forwarded-host') xfHost = true;
    else if (lower === 'x-forwarded-proto') xfProto = true;
    else if (lower === 'x-forwarded-port') xfPort = true;
    head += `${name}: ${raw[i + 1]!}\r\n`;
  }
  if (!host) head += `host: ${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}\r\n`;
  const ip = req.socket.remoteAddress ?? '';
  head += `x-forwarded-for: ${xff === undefined ? ip : `${xff}, ${ip}`}\r\n`;
  if (!xfHost) head += `x-forwarded-host: ${req.headers.host ?? ''}\r\n`;
  if (!xfProto) head += `x-forwarded-proto: ${'encrypted' in req.socket ? 'https' : 'http'}\r\n`;
  if (!xfPort) head += `x-forwarded-port: ${req.socket.localPort ?? ''}\r\n`;
  if (body === 'chunked') head += 'transfer-encoding: chunked\r\n';
  return head + '\r\n';
}

/** The upstream's answer fields for the client: hop-by-hop ones dropped, `extra` added. */
export function answerHeaders(fields: string[], extra: Record<string, string> | undefined): string[] {
  let connection: string[] | undefined;
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const lower = fields[i]!.toLowerCase();
    if (lower === 'connection') (connection ??= []).push(fields[i + 1]!);
    if (HOP_BY_HOP.has(lower)) continue;
    out.push(fields[i]!, fields[i + 1]!);
  }
  const listed = connectionListed(connection);
  if (listed) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (listed.has(out[i]!.toLowerCase())) out.splice(i, 2);
  }
  if (extra) for (const k in extra) out.push(k, extra[k]!);
  return out;
}

/** The keep-alive connections to one upstream. */
class ConnectionPool implements ConnectionOwner {
  private readonly idle: UpstreamConnection[] = [];
  private readonly open = new Set<UpstreamConnection>();
  /** The upstream left the routes: connections close as their answers end. */
  private retired = false;

  constructor(
    private readonly target: ForwardTarget,
    private readonly connectTimeoutMs: number,
  ) {}

  /** The most recently used idle connection still fit for reuse, or a new one. */
  take(): UpstreamConnection {
    const now = performance.now();
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (c.idleUntil > now) return c;
      c.close();
    }
    const c = new UpstreamConnection(this.target.host, this.target.port, this.connectTimeoutMs, this);
    this.open.add(c);
    return c;
  }

  release(c: UpstreamConnection): void {
    const hint = c.keepAliveHintMs;
    const reuseMs = hint === undefined ? IDLE_REUSE_MS : Math.min(IDLE_REUSE_MS, hint - KEEP_ALIVE_MARGIN_MS);
    if (this.retired || reuseMs <= 0 || this.idle.length >= MAX_IDLE_PER_UPSTREAM) return c.close();
    c.idleUntil = performance.now() + reuseMs;
    this.idle.push(c);
  }

  forget(c: UpstreamConnection): void {
    this.open.delete(c);
    const i = this.idle.lastIndexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes the idle connections now and the busy ones when their answers end. */
  retire(): void {
    this.retired = true;
    for (const c of [...this.idle]) c.close();
  }

  destroy(): void {
    this.retired = true;
    for (const c of [...this.open]) c.close();
  }
}

/** Keep-alive connection pools, one per upstream address. */
export class UpstreamClients {
  private readonly pools = new Map<string, ConnectionPool>();

  constructor(private readonly connectTimeoutMs: number) {}

  /** Sends `req` to `target`; the answer goes to `sink`. Returns the connection carrying it. */
  forward(req: IncomingMessage, target: ForwardTarget, sink: AnswerSink): UpstreamConnection {
    let pool = this.pools.get(target.address);
    if (!pool) this.pools.set(target.address, (pool = new ConnectionPool(target, this.connectTimeoutMs)));
    const conn = pool.take();
    const body = req.readableEnded || !hasBody(req) ? 'none' : req.headers['transfer-encoding'] !== undefined ? 'chunked' : 'length';
    conn.send(req.method ?? 'GET', requestHead(req, target, body), body === 'none' ? null : req, body === 'chunked', sink);
    return conn;
  }

  /** Retires the pools of upstreams no longer in `keep`. */
  prune(keep: ReadonlySet<string>): void {
    for (const [addr, p] of this.pools) {
      if (keep.has(addr)) continue;
      this.pools.delete(addr);
      p.retire();
    }
  }

  close(): void {
    for (const p of this.pools.values()) p.destroy();
    this.pools.clear();
  }
}
