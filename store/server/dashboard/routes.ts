import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../../../lib/log.ts';
import type { StoreNode } from '../../node/types.ts';
import { dashboardAssets } from './bundle.ts';
import { ClusterSampler, type ClusterSample } from './sampler.ts';
import { answerSession } from './session.ts';
import type { Authorizer } from '../authorizer.ts';

const SAMPLE_EVERY_MS = 1000;

export interface DashboardDeps {
  node: StoreNode;
  logger: Logger;
  metrics?: Registry;
  /** Checks the page's credentials for /dashboard/api/session; absent means auth is never on. */
  authz?: Authorizer;
}

/**
 * Serves /dashboard (the page and its bundled script) and /dashboard/api/stream (server-sent
 * events, one ClusterSample a second). One sampler runs while at least one page listens, so
 * ten open tabs cost the same peer requests as one. Samples carry cluster stats only (what
 * etcd's open /v2/stats show), never a key or value, so they need no credentials; the page reads
 * keys through /v2/keys with the user's own. /dashboard/api/session checks those credentials.
 */
export class DashboardRoutes {
  private readonly sampler: ClusterSampler;
  private readonly listeners = new Set<(s: ClusterSample) => void>();
  private timer: NodeJS.Timeout | null = null;
  private last: ClusterSample | null = null;

  constructor(private readonly deps: DashboardDeps) {
    this.sampler = new ClusterSampler(deps.node, deps.metrics, deps.logger);
  }

  /** Answers the request when its path belongs to the dashboard; returns false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return true;
    }
    if (path === '/dashboard/api/stream') this.stream(req, res);
    else if (path === '/dashboard/api/sample') void this.sampleOnce(res);
    else if (path === '/dashboard/api/session') void answerSession(req, res, this.deps.node, this.deps.authz);
    else void this.asset(res, path);
    return true;
  }

  private async asset(res: ServerResponse, path: string): Promise<void> {
    try {
      const a = await dashboardAssets();
      const files: Record<string, [string, string]> = {
        '/dashboard': [a.html, 'text/html; charset=utf-8'],
        '/dashboard/': [a.html, 'text/html; charset=utf-8'],
        '/dashboard/app.js': [a.js, 'text/javascript; charset=utf-8'],
        '/dashboard/style.css': [a.css, 'text/css; charset=utf-8'],
      };
      const file = files[path];
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' }).end(file[0]);
    } catch (e) {
      this.deps.logger.error({ err: String(e) }, 'dashboard assets failed to build');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('the dashboard could not be built; see the member log\n');
    }
  }

  private async sampleOnce(res: ServerResponse): Promise<void> {
    const s = await this.sampler.sample();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(s));
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (s: ClusterSample) => res.write(`data: ${JSON.stringify(s)}\n\n`);
    if (this.last) send(this.last);
    this.listeners.add(send);
    this.ensureTimer();
    const done = () => {
      this.listeners.delete(send);
      if (this.listeners.size === 0) this.stopTimer();
    };
    req.on('close', done);
    res.on('close', done);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    const tick = async () => {
      try {
        const s = await this.sampler.sample();
        this.last = s;
        for (const l of this.listeners) l(s);
      } catch (e) {
        this.deps.logger.warn({ err: String(e) }, 'dashboard sample failed');
      }
    };
    void tick();
    this.timer = setInterval(tick, SAMPLE_EVERY_MS);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Ends open streams (server shutdown). */
  close(): void {
    this.stopTimer();
    this.listeners.clear();
  }
}
