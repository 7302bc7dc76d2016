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
import { escapePath, keysTarget, readTarget } from './targets.ts';
import { keysFastPath } from './fast-path/keys-fast-path.ts';
import type { FastPath } from './fast-path/serve-fast-path.ts';
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

export async function startClientServer(deps: ClientServerDeps): Promise<ClientServer> {
  const limits: KeysLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const metrics = new ServerMetrics(deps.metrics);
  const authz = new Authorizer(deps.node, new PasswordVerifier(), deps.clientCertAuth ?? false);
  const auth = new AuthHandlers(deps.node, authz, deps.clusterId, limits.maxRequestBytes);
  const keys = new KeysHandler(deps.node, deps.clusterId, limits, metrics, deps.logger, (req, key, recursive) => authz.hasKeyAccess(req, key, recursive));
  const dashboard = new DashboardRoutes({ node: deps.node, logger: deps.logger, metrics: deps.metrics, authz });

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = req.url ?? '/';
    const target = readTarget(raw);
    const forKeys = keysTarget(target);
    if (forKeys) {
      metrics.receivedRequest(req.method ?? 'GET');
      return keys.handle(req, res, forKeys.keyPath, forKeys.query, forKeys.authKey);
    }
    const { path, canonical, queryStart: q } = target;
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
  const fastPath = { answer: keysFastPath(keys, metrics), maxBodyBytes: limits.maxRequestBytes, onError: (err: unknown) => deps.logger.error({ err }, 'client request failed'), onHandOff: () => metrics.handOffs.inc() };
  const listenerOptions = { headersTimeoutMs: deps.headersTimeoutMs ?? 10_000, requestTimeoutMs: deps.requestTimeoutMs ?? 30_000, tls: deps.tls, clientCertAuth: deps.clientCertAuth ?? false, fastPath };
  const fastPaths: FastPath[] = [];
  for (const listen of deps.listenUrls) {
    const l = await listenClientUrl(listen, listenerOptions, handler);
    urls.push(l.url);
    servers.push(l.server);
    if (l.fastPath) fastPaths.push(l.fastPath);
  }
  deps.logger.info({ urls }, 'serving client requests');

  return {
    urls,
    async close() {
      dashboard.close();
      keys.closeWatches();
      for (const f of fastPaths) f.closeAll();
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
