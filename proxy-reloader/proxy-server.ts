/**
 * The built-in HTTP proxy: routes by Host or path prefix, picks an upstream from
 * the route's pool, retries once on another upstream when that is safe, passes WebSocket
 * upgrades through, adds X-Forwarded-*, answers 503 with a clear body when a service has no
 * healthy upstream, and serves its state as JSON at the status path. Plain requests take the
 * lean path in forward.ts; WebSocket upgrades go through http-proxy.
 */
import { Agent, createServer, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from '../lib/log.ts';
import { hasBody } from '../lib/http-body.ts';
import { BerthError } from '../lib/errors.ts';
import { UpstreamConnectTimeoutError } from './errors.ts';
import { answerHeaders, UpstreamClients } from './forward.ts';
import type { Route, RouteTable } from './routes.ts';
import type { AnswerSink, Progress, UpstreamConnection } from './upstream-connection.ts';
import { NO_UPSTREAMS, stickyIdOf, type Member, type UpstreamPool } from './upstream-pool.ts';

/** The value of cookie `name` in a Cookie header, or undefined. */
function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface ProxyServerOptions {
  routes: RouteTable;
  /** The pool of each service directory. */
  pools: ReadonlyMap<string, UpstreamPool>;
  logger: Logger;
  /** Sticky sessions: the cookie naming the upstream ('' or undefined = off). */
  stickyCookie?: string;
  /** Path answered with the status JSON ('' to turn it off). */
  statusPath: string;
  /** A connect to an upstream not done in this long fails (and is retried on another upstream). */
  connectTimeoutMs: number;
  status(): unknown;
}

/** Methods that may be sent twice (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** A request may go to a second upstream only if it has no body that streamed to the first. */
function retrySafe(req: IncomingMessage, progress: Progress): boolean {
  if (hasBody(req)) return false;
  // Never connected (refused, unreachable, timed out): it did not reach the upstream, whatever the method.
  return progress === 'unsent' || IDEMPOTENT.has(req.method ?? 'GET');
}

/** Fails `req` when its connection is not open within `ms` (0 = wait for the kernel), as plain requests do. */
function limitConnect(req: ClientRequest, ms: number): void {
  if (ms <= 0) return;
  req.once('socket', (s) => {
    if (!s.connecting) return;
    const timer = setTimeout(() => req.destroy(new UpstreamConnectTimeoutError(ms)), ms);
    s.once('connect', () => clearTimeout(timer));
    s.once('close', () => clearTimeout(timer));
  });
}

export class ProxyServer {
  readonly server: Server;
  private readonly proxy: httpProxy;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  /** Connection pools for plain requests. */
  readonly clients: UpstreamClients;
  /** Requests that failed without a usable answer (for /status and tests). */
  failed = 0;
  /** Requests sent to a second upstream after the first gave no answer. */
  retried = 0;
  /** Upgraded connections: the HTTP server no longer tracks them, close() must end them. */
  private readonly tunnels = new Set<Duplex>();

  constructor(private readonly opts: ProxyServerOptions) {
    this.clients = new UpstreamClients(opts.connectTimeoutMs);
    this.proxy = httpProxy.createProxyServer({ xfwd: true, ws: true, agent: this.agent });
    // http-proxy ends the upstream socket only when the client's ends cleanly; tie their lives.
    this.proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
      limitConnect(proxyReq, opts.connectTimeoutMs);
      proxyReq.on('upgrade', (_res, upstream: Duplex) => {
        socket.once('close', () => upstream.destroy());
        upstream.once('close', () => socket.destroy());
      });
    });
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The port actually bound. */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
      for (const s of this.tunnels) s.destroy();
    });
    this.proxy.close();
    this.agent.destroy();
    this.clients.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    if (this.opts.statusPath && (path === this.opts.statusPath || path.startsWith(this.opts.statusPath + '?'))) {
      const body = JSON.stringify(this.opts.status(), null, 2);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    const route = this.opts.routes.match(req.headers.host, path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`berth proxy: no route for host "${req.headers.host ?? ''}" and path "${path}"\n`);
      return;
    }
    const sticky = this.opts.stickyCookie ? readCookie(req.headers.cookie, this.opts.stickyCookie) : undefined;
    new Exchange(this, this.opts, req, res, route, this.opts.pools.get(route.serviceDir)!, sticky).start();
  }

  /** 503: the route has no upstream that would take a request. */
  unavailable(res: ServerResponse, route: Route, pool: UpstreamPool): void {
    const all = pool.list().filter((m) => !m.draining);
    const reason = all.length === 0 ? 'no upstream is registered' : `all ${all.length} registered upstreams are unhealthy`;
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' });
    res.end(`berth proxy: 503 service unavailable: route "${route.raw}" (${route.serviceDir}): ${reason}\n`);
  }

  /** 502: no usable answer came from the upstreams tried. */
  badGateway(res: ServerResponse, route: Route, why: string): void {
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`berth proxy: 502 bad gateway: route "${route.raw}": ${why}\n`);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.tunnels.add(socket);
    socket.once('close', () => this.tunnels.delete(socket));
    const route = this.opts.routes.match(req.headers.host, req.url ?? '/');
    const pool = route && this.opts.pools.get(route.serviceDir);
    const member: Member | null | undefined = pool?.pick();
    if (!route || !pool || !member) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    pool.begin(member);
    socket.once('close', () => pool.end(member));
    this.proxy.ws(req, socket, head, { target: { host: member.host, port: member.port, protocol: 'http:' } as unknown as string, agent: false } as httpProxy.ServerOptions, (err: Error) => {
      pool.fail(member);
      this.opts.logger.warn({ route: route.raw, upstream: member.address, error: err.message }, 'websocket upgrade failed');
      socket.destroy();
    });
  }
}

/** How a failed attempt reads in a 502 body and the log: a system error's code, else our message. */
function describe(err: NodeJS.ErrnoException): string {
  return err instanceof BerthError ? err.message : (err.code ?? err.message);
}

/**
 * One plain request on its way through the proxy: the upstream it is on, at most one retry on
 * another, and what reaches the client. One object per request, with the answer's callbacks as
 * its methods: at tens of thousands of requests a second, closures per request show.
 */
class Exchange implements AnswerSink {
  /** The upstream of the attempt under way (counted in its in-flight requests), or null. */
  private member: Member | null = null;
  private conn: UpstreamConnection | null = null;
  /** The upstream that failed the first attempt, once a retry started, and how it failed. */
  private firstTried: string | null = null;
  private firstFailure = '';
  /**
   * The answer's status and fields, held until its first body bytes or its end: node sends a
   * head only with those anyway, and an upstream that breaks off before them (killed while it
   * answered) leaves the client untouched, so the request can still go to another upstream.
   */
  private heldStatus = 0;
  private heldFields: string[] | null = null;

  constructor(
    private readonly proxy: ProxyServer,
    private readonly opts: ProxyServerOptions,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: Route,
    private readonly pool: UpstreamPool,
    private readonly sticky: string | undefined,
  ) {}

  start(): void {
    if (this.res.destroyed) return; // the client left while its head was parsed
    // The answer finished or the client left: either way the attempt is over.
    this.res.once('close', () => this.closed());
    this.attempt();
  }

  private attempt(): void {
    const exclude = this.firstTried === null ? NO_UPSTREAMS : new Set([this.firstTried]);
    const member = (this.sticky !== undefined ? this.pool.pickSticky(this.sticky, exclude) : null) ?? this.pool.pick(exclude);
    if (!member) {
      if (this.firstTried === null) return this.proxy.unavailable(this.res, this.route, this.pool);
      return this.proxy.badGateway(this.res, this.route, `${this.firstFailure}; no other upstream to retry on`);
    }
    this.member = member;
    this.pool.begin(member);
    this.conn = this.proxy.clients.forward(this.req, member, this);
  }

  onHead(status: number, headers: string[]): void {
    const member = this.member!;
    this.pool.succeed(member);
    const id = this.opts.stickyCookie ? stickyIdOf(member.address) : undefined;
    const cookie = id !== undefined && id !== this.sticky ? { 'set-cookie': `${this.opts.stickyCookie}=${id}; Path=/; HttpOnly; SameSite=Lax` } : undefined;
    this.heldStatus = status;
    this.heldFields = answerHeaders(headers, cookie);
  }

  private passHeadOn(): void {
    this.res.writeHead(this.heldStatus, this.heldFields!);
    this.heldFields = null;
  }

  onBody(chunk: Buffer): boolean {
    if (this.heldFields) this.passHeadOn();
    if (this.res.write(chunk)) return true;
    this.res.once('drain', () => this.conn?.resumeFor(this));
    return false;
  }

  onEnd(): void {
    this.conn = null;
    if (this.heldFields) this.passHeadOn();
    this.res.end();
  }

  onError(err: NodeJS.ErrnoException, progress: Progress): void {
    this.conn = null;
    const member = this.member!;
    this.endAttempt();
    if (this.res.destroyed) return; // the client went away
    const why = describe(err);
    if (this.res.headersSent) {
      // Broke mid-body: a truncated answer must not look whole.
      this.opts.logger.warn({ route: this.route.raw, upstream: member.address, method: this.req.method, error: why }, 'upstream answer broke off');
      this.proxy.failed++;
      this.res.destroy();
      return;
    }
    this.heldFields = null;
    this.pool.fail(member);
    if (this.firstTried === null && retrySafe(this.req, progress)) {
      this.proxy.retried++;
      this.firstTried = member.address;
      this.firstFailure = `upstream ${member.address}: ${why}`;
      this.opts.logger.debug({ upstream: member.address, error: why }, 'retrying on another upstream');
      return this.attempt();
    }
    this.opts.logger.warn({ route: this.route.raw, upstream: member.address, method: this.req.method, error: why }, 'upstream request failed');
    this.proxy.failed++;
    this.proxy.badGateway(this.res, this.route, `upstream ${member.address}: ${why}`);
  }

  private closed(): void {
    this.endAttempt();
    this.conn?.abort(this);
    this.conn = null;
  }

  private endAttempt(): void {
    if (this.member === null) return;
    this.pool.end(this.member);
    this.member = null;
  }
}
