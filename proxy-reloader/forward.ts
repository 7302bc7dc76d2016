/**
 * Forwards one plain HTTP request to an upstream and streams the answer back, over an undici
 * connection pool per upstream (markedly cheaper per request than node:http's client; http-proxy
 * still handles WebSocket upgrades). Hop-by-hop headers are dropped both ways and
 * X-Forwarded-For/Host/Proto/Port added.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';

/** RFC 9110 7.6.1 connection-specific headers (and the ones undici manages itself). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding', 'expect', 'proxy-authorization', 'proxy-authenticate']);

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

/**
 * The request's headers as a flat [name, value, ...] list, without hop-by-hop ones, plus
 * X-Forwarded-*. Built from rawHeaders: no object copies or deletes on the hot path.
 */
function forwardedHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let xff: string | undefined;
  let xfHost = false;
  let xfProto = false;
  let xfPort = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    if (name === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1]! : `${xff}, ${raw[i + 1]!}`;
      continue;
    }
    if (name === 'x-forwarded-host') xfHost = true;
    else if (name === 'x-forwarded-proto') xfProto = true;
    else if (name === 'x-forwarded-port') xfPort = true;
    out.push(raw[i]!, raw[i + 1]!);
  }
  const ip = req.socket.remoteAddress ?? '';
  out.push('x-forwarded-for', xff === undefined ? ip : `${xff}, ${ip}`);
  if (!xfHost) out.push('x-forwarded-host', req.headers.host ?? '');
  if (!xfProto) out.push('x-forwarded-proto', 'encrypted' in req.socket ? 'https' : 'http');
  if (!xfPort) out.push('x-forwarded-port', String(req.socket.localPort ?? ''));
  return out;
}

/** The upstream's answer headers for the client: hop-by-hop ones dropped, `extra` added. */
function answerHeaders(headers: Record<string, string | string[] | undefined>, extra: Record<string, string> | undefined): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  if (extra) for (const [k, v] of Object.entries(extra)) out[k] = out[k] === undefined ? v : ([] as string[]).concat(out[k] as string | string[], v);
  return out;
}

/** Whether the request carries a body (by its headers; it may not have arrived yet). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
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
    const bodyless = req.readableEnded || !hasBody(req);
    let answered = false;
    const abort = new AbortController();
    // The client left before the answer finished: stop the upstream work too.
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    this.poolFor(target).stream(
      { path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers: forwardedHeaders(req), body: bodyless ? undefined : req, signal: abort.signal },
      ({ statusCode, headers }) => {
        answered = true;
        res.writeHead(statusCode, answerHeaders(headers as Record<string, string | string[] | undefined>, hooks.onResponse()));
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
