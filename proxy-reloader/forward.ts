/**
 * Forwards one plain HTTP request to an upstream and streams the answer back, over an undici
 * connection pool per upstream (markedly cheaper per request than node:http's client; http-proxy
 * still handles WebSocket upgrades). Hop-by-hop headers are dropped both ways and
 * X-Forwarded-For/Host/Proto/Port added.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';

/** RFC 9110 7.6.1 connection-specific headers (and the ones undici manages itself). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'expect', 'proxy-authorization', 'proxy-authenticate'];

export interface ForwardTarget {
  readonly address: string;
  readonly host: string;
  readonly port: number;
}

export interface ForwardHooks {
  /** The upstream answered (headers arrived); may return headers to add to the answer. */
  onResponse(): Record<string, string> | undefined;
  /** No answer came from the upstream (nothing was sent to the client yet). */
  onError(err: NodeJS.ErrnoException): void;
}

function forwardedHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = { ...req.headers };
  for (const h of HOP_BY_HOP) delete headers[h];
  const ip = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${ip}` : ip;
  headers['x-forwarded-host'] ??= req.headers.host ?? '';
  headers['x-forwarded-proto'] ??= 'encrypted' in req.socket ? 'https' : 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
  return headers;
}

/** Keep-alive connection pools, one per upstream address. */
export class UpstreamClients {
  private readonly pools = new Map<string, Pool>();

  private poolFor(t: ForwardTarget): Pool {
    let p = this.pools.get(t.address);
    if (!p) {
      p = new Pool(`http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
      this.pools.set(t.address, p);
    }
    return p;
  }

  /** Sends `req` to `target` and pipes the answer into `res`. */
  forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, hooks: ForwardHooks): void {
    const bodyless = req.readableEnded || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) || req.headers['content-length'] === '0';
    let answered = false;
    const abort = new AbortController();
    // The client left before the answer finished: stop the upstream work too.
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    this.poolFor(target).stream(
      { path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: forwardedHeaders(req) as Record<string, string>, body: bodyless ? undefined : req, signal: abort.signal },
      ({ statusCode, headers }) => {
        answered = true;
        const extra = hooks.onResponse();
        for (const h of HOP_BY_HOP) delete headers[h];
        if (extra) for (const [k, v] of Object.entries(extra)) headers[k] = headers[k] === undefined ? v : ([] as string[]).concat(headers[k] as string | string[], v);
        res.writeHead(statusCode, headers as IncomingHttpHeaders);
        return res;
      },
      (err) => {
        if (!err) return;
        if (answered) res.destroy(); // broke mid-body: a truncated answer must not look whole
        else hooks.onError(err as NodeJS.ErrnoException);
      },
    );
  }

  /** Closes the pools of upstreams no longer in `keep`. */
  prune(keep: ReadonlySet<string>): void {
    for (const [addr, p] of this.pools) {
      if (keep.has(addr)) continue;
      this.pools.delete(addr);
      void p.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.destroy()));
    this.pools.clear();
  }
}
