/**
 * Forwards one plain HTTP request to an upstream over a keep-alive agent and streams the
 * answer back. A lean path for the hot loop (http-proxy still handles WebSocket upgrades):
 * hop-by-hop headers dropped both ways, X-Forwarded-For/Host/Proto/Port added.
 */
import { request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

/** RFC 9110 7.6.1 connection-specific headers, never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate'];

export interface ForwardTarget {
  host: string;
  port: number;
}

export interface ForwardHooks {
  /** The upstream answered (headers arrived). */
  onResponse(): void;
  /** Could not get an answer; `responded` says whether headers were already sent to the client. */
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

/** Sends `req` to `target` and pipes the answer into `res`. */
export function forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, agent: Agent, hooks: ForwardHooks): void {
  const upstreamReq = request({ host: target.host, port: target.port, method: req.method, path: req.url, headers: forwardedHeaders(req), agent });
  let answered = false;
  upstreamReq.on('response', (upstreamRes) => {
    answered = true;
    hooks.onResponse();
    const headers = { ...upstreamRes.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
  });
  upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
    if (answered) {
      res.destroy(); // broke mid-body: the client must not take a truncated answer as whole
      return;
    }
    hooks.onError(err);
  });
  // The client left before the answer finished: stop the upstream work too.
  res.once('close', () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  if (req.readableEnded) upstreamReq.end();
  else req.pipe(upstreamReq);
}
