/**
 * HttpKvBackend: the v2 API over HTTP(S), for berth and real etcd alike.
 *
 *   const kv = new HttpKvBackend({ endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'] });
 *   await kv.set('/config/flag', 'on', { ttl: 30 });
 *   for await (const ev of kv.watch('/config', { recursive: true })) { ... }
 *
 * Failover: requests stick to one endpoint and move to the next on a connection error or a 5xx.
 * Retries (p-retry): reads and watches are retried on any endpoint; a write is retried only
 * when it provably never reached a server (connection refused), so a CAS or create is never
 * applied twice.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import pRetry, { AbortError } from 'p-retry';
import { silentLogger, type Logger } from '../../lib/log.ts';
import { EtcdError, EtcdErrorCode } from '../kv/errors.ts';
import type { Action, NodeJSON } from '../kv/types.ts';
import type { DeleteOpts, GetOpts, KvBackend, KvResult, SetOpts, WatchOpts } from './kv-backend.ts';
import { toKvResult } from './node-conversion.ts';

export interface HttpKvBackendOptions {
  endpoints: string[];
  /** Per request, except watches (which wait as long as the server lets them). */
  timeoutMs?: number;
  retries?: number;
  logger?: Logger;
  auth?: { username: string; password: string };
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** Called before every HTTP request (`berth ctl --debug` prints them as curl commands). */
  onRequest?: (method: string, url: string, body: string | undefined) => void;
}

/** The request never reached a server: safe to send elsewhere, whatever it was. */
class NotSentError extends Error {}

/** The server or the network failed mid-request: only idempotent requests may be resent. */
class TransportError extends Error {}

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An endpoint as a URL; `host:port` means http://host:port, as etcdctl takes it. */
export function endpointUrl(e: string): URL {
  const u = new URL(e.includes('://') ? e : `http://${e}`);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`${e}: endpoints are http:// or https:// URLs`);
  return u;
}

export class HttpKvBackend implements KvBackend {
  private readonly endpoints: URL[];
  private current = 0;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly logger: Logger;
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent: HttpsAgent;
  /** The long polls waiting on each member, and the timer that probes it for them. */
  private readonly waiting = new Map<string, { polls: Set<ClientRequest>; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(private readonly opts: HttpKvBackendOptions) {
    if (opts.endpoints.length === 0) throw new TypeError('HttpKvBackend needs at least one endpoint');
    this.endpoints = opts.endpoints.map(endpointUrl);
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retries = opts.retries ?? 3;
    this.logger = opts.logger ?? silentLogger;
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: opts.tls?.ca, cert: opts.tls?.cert, key: opts.tls?.key });
  }

  /** One HTTP exchange with one endpoint. */
  private exchange(base: URL, method: string, path: string, body: string | undefined, timeoutMs: number | null, signal?: AbortSignal): Promise<RawResponse> {
    const https = base.protocol === 'https:';
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    if (this.opts.auth) headers.authorization = 'Basic ' + Buffer.from(`${this.opts.auth.username}:${this.opts.auth.password}`).toString('base64');
    this.opts.onRequest?.(method, `${base.origin}${base.pathname.replace(/\/$/, '')}${path}`, body);
    return new Promise((resolve, reject) => {
      let sent = false;
      const req = (https ? httpsRequest : httpRequest)(
        { host: base.hostname, port: base.port || (https ? 443 : 80), method, path: base.pathname.replace(/\/$/, '') + path, headers, agent: https ? this.httpsAgent : this.httpAgent, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => reject(new TransportError(e.message)));
        },
      );
      if (timeoutMs !== null) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${base.host} within ${timeoutMs} ms`)));
      else this.probeWhileWaiting(base, req);
      req.on('socket', (s) => {
        if (!s.connecting) return; // a kept-alive socket: `req.reusedSocket` tells the story
        // Node's request timeout starts only once connected; a member whose host vanished would
        // otherwise hold the request for the kernel's SYN retries (about two minutes).
        const connectTimer = setTimeout(() => req.destroy(new Error(`cannot connect to ${base.host} within ${this.timeoutMs} ms`)), this.timeoutMs);
        s.once('connect', () => {
          sent = true;
          clearTimeout(connectTimer);
        });
        s.once('close', () => clearTimeout(connectTimer));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (signal?.aborted) return reject(e);
        const neverSent = e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH' || (!sent && e.code !== 'ECONNRESET' && !req.reusedSocket);
        reject(neverSent ? new NotSentError(`${base.host}: ${e.message}`) : new TransportError(`${base.host}: ${e.message}`));
      });
      req.end(body);
    });
  }

  /**
   * A long poll has no timeout, and etcd's v2 API sends nothing until an event: a frozen member
   * (or a network that drops packets) would hold the watch forever. So while polls wait on a
   * member, it is asked for /version every timeoutMs (one probe for all of them); a probe that
   * fails ends those polls with a transport error, and each watch resumes elsewhere from its index.
   */
  private probeWhileWaiting(base: URL, req: ClientRequest): void {
    const w = this.waiting.get(base.href) ?? this.startProbing(base);
    w.polls.add(req);
    req.once('close', () => {
      w.polls.delete(req);
      if (w.polls.size > 0) return;
      clearInterval(w.timer);
      this.waiting.delete(base.href);
    });
  }

  /** The probe timer for `base`: a failed /version ends every poll waiting on it. */
  private startProbing(base: URL): { polls: Set<ClientRequest>; timer: NodeJS.Timeout } {
    const polls = new Set<ClientRequest>();
    let probing = false;
    const timer = setInterval(() => {
      if (probing) return;
      probing = true;
      this.exchange(base, 'GET', '/version', undefined, this.timeoutMs)
        .catch((e: Error) => {
          for (const r of polls) r.destroy(new Error(`${base.host} stopped answering during a watch (${e.message})`));
        })
        .finally(() => (probing = false));
    }, this.timeoutMs);
    timer.unref();
    const w = { polls, timer };
    this.waiting.set(base.href, w);
    return w;
  }

  /** Sends with failover; `idempotent` decides whether a failed-in-flight request is resent. */
  private async send(method: string, path: string, body: string | undefined, idempotent: boolean, signal?: AbortSignal, timeoutMs: number | null = this.timeoutMs): Promise<RawResponse> {
    if (this.closed) throw new Error('HttpKvBackend is closed');
    return pRetry(
      async () => {
        const base = this.endpoints[this.current % this.endpoints.length]!;
        try {
          const res = await this.exchange(base, method, path, body, timeoutMs, signal);
          if (res.status >= 500 && idempotent) {
            this.rotate(base, `HTTP ${res.status}`);
            throw new TransportError(`${base.host}: HTTP ${res.status}`);
          }
          return res;
        } catch (e) {
          if (signal?.aborted) throw new AbortError(e as Error);
          this.rotate(base, (e as Error).message);
          if (e instanceof NotSentError || (idempotent && e instanceof TransportError)) throw e;
          throw new AbortError(e as Error);
        }
      },
      { retries: Math.max(this.retries, this.endpoints.length), minTimeout: 50, maxTimeout: 1000, signal },
    );
  }

  private rotate(from: URL, why: string): void {
    if (this.endpoints[this.current % this.endpoints.length] === from) {
      this.current++;
      this.logger.warn({ endpoint: from.href, reason: why, next: this.endpoints[this.current % this.endpoints.length]!.href }, 'store endpoint failed; trying the next');
    }
  }

  private parse(res: RawResponse): KvResult {
    const etcdIndex = Number(res.headers['x-etcd-index'] ?? 0);
    let body: { action?: Action; node?: NodeJSON; prevNode?: NodeJSON; errorCode?: number; message?: string; cause?: string; index?: number };
    try {
      body = JSON.parse(res.body) as typeof body;
    } catch {
      throw new EtcdError(EtcdErrorCode.RaftInternal, `unexpected answer (HTTP ${res.status}): ${res.body.slice(0, 200)}`, etcdIndex);
    }
    if (typeof body.errorCode === 'number') throw new EtcdError(body.errorCode as EtcdErrorCode, body.cause ?? '', body.index ?? etcdIndex);
    const raftIndex = res.headers['x-raft-index'] !== undefined ? Number(res.headers['x-raft-index']) : undefined;
    const raftTerm = res.headers['x-raft-term'] !== undefined ? Number(res.headers['x-raft-term']) : undefined;
    return toKvResult(body as { action: Action; node?: NodeJSON; prevNode?: NodeJSON }, etcdIndex, raftIndex, raftTerm);
  }

  private static keyPath(key: string): string {
    const clean = key.startsWith('/') ? key : `/${key}`;
    return '/v2/keys' + clean.split('/').map(encodeURIComponent).join('/');
  }

  async get(key: string, opts: GetOpts = {}): Promise<KvResult> {
    const q = new URLSearchParams();
    if (opts.recursive) q.set('recursive', 'true');
    if (opts.sorted) q.set('sorted', 'true');
    if (opts.quorum) q.set('quorum', 'true');
    const qs = q.toString();
    return this.parse(await this.send('GET', HttpKvBackend.keyPath(key) + (qs ? `?${qs}` : ''), undefined, true));
  }

  async set(key: string, value: string, opts: SetOpts = {}): Promise<KvResult> {
    const form = new URLSearchParams();
    if (!opts.refresh && !opts.dir) form.set('value', value);
    if (opts.dir) form.set('dir', 'true');
    if (opts.ttl !== undefined) form.set('ttl', opts.ttl === null ? '' : String(opts.ttl));
    if (opts.prevExist !== undefined) form.set('prevExist', String(opts.prevExist));
    if (opts.prevValue !== undefined) form.set('prevValue', opts.prevValue);
    if (opts.prevIndex !== undefined) form.set('prevIndex', String(opts.prevIndex));
    if (opts.refresh) form.set('refresh', 'true');
    if (opts.noValueOnSuccess) form.set('noValueOnSuccess', 'true');
    return this.parse(await this.send('PUT', HttpKvBackend.keyPath(key), form.toString(), false));
  }

  async createInOrder(dir: string, value: string, opts: { ttl?: number | null; dir?: boolean } = {}): Promise<KvResult> {
    const form = new URLSearchParams({ value });
    if (opts.ttl !== undefined && opts.ttl !== null) form.set('ttl', String(opts.ttl));
    if (opts.dir) form.set('dir', 'true');
    return this.parse(await this.send('POST', HttpKvBackend.keyPath(dir), form.toString(), false));
  }

  async delete(key: string, opts: DeleteOpts = {}): Promise<KvResult> {
    const q = new URLSearchParams();
    if (opts.dir) q.set('dir', 'true');
    if (opts.recursive) q.set('recursive', 'true');
    if (opts.prevValue !== undefined) q.set('prevValue', opts.prevValue);
    if (opts.prevIndex !== undefined) q.set('prevIndex', String(opts.prevIndex));
    const qs = q.toString();
    return this.parse(await this.send('DELETE', HttpKvBackend.keyPath(key) + (qs ? `?${qs}` : ''), undefined, false));
  }

  /**
   * Long polls in a loop from the last seen index, across reconnects and endpoint changes.
   * Without `afterIndex` the first poll waits for the next change.
   */
  async *watch(key: string, opts: WatchOpts = {}): AsyncIterable<KvResult> {
    let next = opts.afterIndex !== undefined ? opts.afterIndex + 1 : 0;
    while (!opts.signal?.aborted && !this.closed) {
      const q = new URLSearchParams({ wait: 'true' });
      if (opts.recursive) q.set('recursive', 'true');
      if (next > 0) q.set('waitIndex', String(next));
      let res: RawResponse;
      try {
        res = await this.send('GET', `${HttpKvBackend.keyPath(key)}?${q}`, undefined, true, opts.signal, null);
      } catch (e) {
        if (opts.signal?.aborted || this.closed) return;
        throw e;
      }
      if (res.body.trim() === '') {
        // The server ended the long poll without an event: ask again from the same index.
        if (next === 0) next = Number(res.headers['x-etcd-index'] ?? 0) + 1;
        continue;
      }
      const ev = this.parse(res);
      if (ev.node) next = ev.node.modifiedIndex + 1;
      yield ev;
    }
  }

  async members(): Promise<{ id: string; name: string; peerURLs: string[]; clientURLs: string[] }[]> {
    const res = await this.send('GET', '/v2/members', undefined, true);
    return (JSON.parse(res.body) as { members: { id: string; name: string; peerURLs: string[]; clientURLs: string[] }[] }).members;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
