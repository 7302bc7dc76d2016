/**
 * The built-in HTTP proxy: routes by Host or path prefix, picks an upstream from
 * the route's pool, retries once on another upstream when that is safe, passes WebSocket
 * upgrades through, adds X-Forwarded-*, answers 503 with a clear body when a service has no
 * healthy upstream, and serves its state as JSON at the status path. Plain requests take the
 * lean path in forward.ts; WebSocket upgrades go through http-proxy.
 */
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from '../lib/log.ts';
import { hasBody } from '../lib/http-body.ts';
import { UpstreamClients } from './forward.ts';
import type { Route, RouteTable } from './routes.ts';
import { stickyIdOf, type Member, type UpstreamPool } from './upstream-pool.ts';

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
  status(): unknown;
}

/** Methods that may be sent twice (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** A request may go to a second upstream only if it has no body that streamed to the first. */
function retrySafe(req: IncomingMessage, err: NodeJS.ErrnoException): boolean {
  if (hasBody(req)) return false;
  // Refused: it never reached the upstream, whatever the method.
  return err.code === 'ECONNREFUSED' || IDEMPOTENT.has(req.method ?? 'GET');
}

export class ProxyServer {
  readonly server: Server;
  private readonly proxy: httpProxy;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  /** Connection pools for plain requests. */
  readonly clients = new UpstreamClients();
  /** Requests that failed without a usable answer (for /status and tests). */
  failed = 0;
  retried = 0;
  /** Upgraded connections: the HTTP server no longer tracks them, close() must end them. */
  private readonly tunnels = new Set<Duplex>();

  constructor(private readonly opts: ProxyServerOptions) {
    this.proxy = httpProxy.createProxyServer({ xfwd: true, ws: true, agent: this.agent });
    // http-proxy ends the upstream socket only when the client's ends cleanly; tie their lives.
    this.proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
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
    await this.clients.close();
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
    this.forward(req, res, route, this.opts.pools.get(route.serviceDir)!, new Set());
  }

  private unavailable(res: ServerResponse, route: Route, pool: UpstreamPool): void {
    const all = pool.list().filter((m) => !m.draining);
    const reason = all.length === 0 ? 'no upstream is registered' : `all ${all.length} registered upstreams are unhealthy`;
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' });
    res.end(`berth proxy: 503 service unavailable: route "${route.raw}" (${route.serviceDir}): ${reason}\n`);
  }

  private forward(req: IncomingMessage, res: ServerResponse, route: Route, pool: UpstreamPool, tried: Set<string>): void {
    const sticky = this.opts.stickyCookie ? readCookie(req.headers.cookie, this.opts.stickyCookie) : undefined;
    const member = (sticky !== undefined ? pool.pickSticky(sticky, tried) : null) ?? pool.pick(tried);
    if (!member) {
      if (tried.size > 0) return this.badGateway(res, route, 'no other upstream to retry on');
      return this.unavailable(res, route, pool);
    }
    pool.begin(member);
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      pool.end(member);
    };
    res.once('close', finish);
    this.clients.forward(req, res, member, {
      onResponse: () => {
        pool.succeed(member);
        const id = this.opts.stickyCookie ? stickyIdOf(member.address) : undefined;
        return id !== undefined && id !== sticky ? { 'set-cookie': `${this.opts.stickyCookie}=${id}; Path=/; HttpOnly; SameSite=Lax` } : undefined;
      },
      onError: (err) => this.failedAttempt(req, res, route, pool, tried, member, err, finish),
    });
  }

  private failedAttempt(req: IncomingMessage, res: ServerResponse, route: Route, pool: UpstreamPool, tried: Set<string>, member: Member, err: NodeJS.ErrnoException, finish: () => void): void {
    finish();
    res.off('close', finish);
    if (res.destroyed) return; // the client went away
    pool.fail(member);
    if (!res.headersSent && tried.size === 0 && retrySafe(req, err)) {
      this.retried++;
      tried.add(member.address);
      this.opts.logger.debug({ upstream: member.address, error: err.code ?? err.message }, 'retrying on another upstream');
      return this.forward(req, res, route, pool, tried);
    }
    this.opts.logger.warn({ route: route.raw, upstream: member.address, method: req.method, error: err.code ?? err.message }, 'upstream request failed');
    this.failed++;
    if (res.headersSent) res.destroy();
    else this.badGateway(res, route, `upstream ${member.address}: ${err.code ?? err.message}`);
  }

  private badGateway(res: ServerResponse, route: Route, why: string): void {
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
