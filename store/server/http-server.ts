/**
 * The client API server: `startClientServer({ node, listenUrls, logger, clusterId, ... })`
 * listens on every --listen-client-urls address and serves /v2/keys, /v2/members, /v2/stats/*,
 * /v2/machines, /version, /health, /metrics and /dashboard. `close()` stops accepting, ends
 * open watches and waits for in-flight requests.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/log.ts';
import type { StoreNode } from '../node/types.ts';
import { DashboardRoutes } from './dashboard/routes.ts';
import { handleHealth, handleMembers, handleStats, handleVersion } from './cluster-handlers.ts';
import { KeysHandler, type KeysLimits } from './keys-handler.ts';
import { ServerMetrics } from './metrics.ts';
import { setCommonHeaders, writeText } from './responses.ts';
import { AuthHandlers, writeNoAuth } from './auth-handlers.ts';
import { Authorizer } from './authorizer.ts';
import { PasswordVerifier } from './passwords.ts';
import { listenClientUrl } from './listener.ts';
import type { TlsMaterial } from '../transport/tls-material.ts';

export interface ClientServerDeps {
  node: StoreNode;
  listenUrls: string[];
  logger: Logger;
  clusterId: string;
  metrics: Registry;
  limits?: Partial<KeysLimits>;
  /** Slow-client guard: a request's headers must arrive within this many ms. */
  headersTimeoutMs?: number;
  /** Slow-client guard: a whole request (headers and body) must arrive within this many ms. */
  requestTimeoutMs?: number;
  /** Certificate and key for https:// listen URLs; `ca` verifies client certificates. */
  tls?: TlsMaterial;
  /** --client-cert-auth: refuse TLS clients without a certificate signed by `tls.ca`; CN names the user. */
  clientCertAuth?: boolean;
}


export interface ClientServer {
  /** The bound URLs (port 0 resolved). */
  urls: string[];
  close(): Promise<void>;
}

export const DEFAULT_LIMITS: KeysLimits = {
  maxRequestBytes: 1.5 * 1024 * 1024,
  maxKeyBytes: 8192,
  watchTimeoutMs: 5 * 60_000,
  maxWatchesPerConnection: 8,
};

/** Go's ServeMux path cleaning: the canonical form a request is redirected to. */
export function canonicalPath(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = '/' + p;
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let np = '/' + parts.join('/');
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** Go's url.URL path escaping, for the Location of a redirect (a raw newline would split headers). */
export function escapePath(p: string): string {
  let out = '';
  for (const byte of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export async function startClientServer(deps: ClientServerDeps): Promise<ClientServer> {
  const limits: KeysLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const metrics = new ServerMetrics(deps.metrics);
  const authz = new Authorizer(deps.node, new PasswordVerifier(), deps.clientCertAuth ?? false);
  const auth = new AuthHandlers(deps.node, authz, deps.clusterId, limits.maxRequestBytes);
  const keys = new KeysHandler(deps.node, deps.clusterId, limits, metrics, deps.logger, (req, key, recursive) => authz.hasKeyAccess(req, key, recursive));
  const dashboard = new DashboardRoutes({ node: deps.node, logger: deps.logger, metrics: deps.metrics, authz });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = q >= 0 ? raw.slice(0, q) : raw;
    const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
    let path: string | null = null;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      // answered 400 below
    }
    const canonical = path === null || path.includes('\0') ? null : canonicalPath(path);
    if (canonical !== null && canonical === path && (path === '/v2/keys' || path.startsWith('/v2/keys/'))) {
      metrics.receivedRequest(req.method ?? 'GET');
      return keys.handle(req, res, path.slice('/v2/keys'.length) || '/', query, path.slice('/v2/keys'.length));
    }
    // The keys handler sets its own headers (KeysHandler.eventHeaders); every other answer
    // carries etcd's common headers from here.
    setCommonHeaders(res);
    if (path === null || canonical === null) return writeText(res, 400, '400 Bad Request');
    if (canonical !== path) {
      const location = escapePath(canonical) + (q >= 0 ? raw.slice(q) : '');
      res.writeHead(301, { Location: location, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(req.method === 'GET' ? `<a href="${location.replace(/&/g, '&amp;').replace(/"/g, '&#34;').replace(/</g, '&lt;')}">Moved Permanently</a>.\n\n` : undefined);
      return;
    }
    metrics.receivedRequest(req.method ?? 'GET');
    if (path.startsWith('/v2/auth/') && (await auth.handle(req, res, path))) return;
    if (path === '/v2/members' || path.startsWith('/v2/members/')) {
      if (['GET', 'POST', 'DELETE', 'PUT'].includes(req.method ?? '') && !(await authz.hasWriteRootAccess(req))) return writeNoAuth(res);
      return handleMembers(req, res, deps.node, deps.clusterId, path.slice('/v2/members'.length), limits.maxRequestBytes);
    }
    if (path.startsWith('/v2/stats/')) return handleStats(req, res, deps.node, path.slice('/v2/stats/'.length));
    if (path === '/v2/machines') return void res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(deps.node.members().flatMap((m) => m.clientURLs).join(', '));
    if (path === '/version') return handleVersion(res);
    if (path === '/health') return handleHealth(res, deps.node);
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': deps.metrics.contentType });
      return void res.end(await deps.metrics.metrics());
    }
    if (dashboard.handle(req, res, path)) return;
    writeText(res, 404, '404 page not found');
  };

  const servers: Server[] = [];
  const urls: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      deps.logger.error({ err, method: req.method }, 'client request failed');
      if (res.headersSent) return void res.end();
      setCommonHeaders(res);
      writeText(res, 500, 'internal server error');
    });
  };
  const listenerOptions = { headersTimeoutMs: deps.headersTimeoutMs ?? 10_000, requestTimeoutMs: deps.requestTimeoutMs ?? 30_000, tls: deps.tls, clientCertAuth: deps.clientCertAuth ?? false };
  for (const listen of deps.listenUrls) {
    const { server, url } = await listenClientUrl(listen, listenerOptions, handler);
    urls.push(url);
    servers.push(server);
  }
  deps.logger.info({ urls }, 'serving client requests');

  return {
    urls,
    async close() {
      dashboard.close();
      keys.closeWatches();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeIdleConnections();
            }),
        ),
      );
    },
  };
}
