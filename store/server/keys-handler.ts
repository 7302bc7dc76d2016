import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/log.ts';
import { EtcdError, EtcdErrorCode } from '../kv/errors.ts';
import { eventText } from '../kv/node-json.ts';
import type { KvCommand, KvEvent } from '../kv/types.ts';
import type { StoreNode } from '../node/types.ts';
import { BodyTooLarge, Form, formPairs, isUrlEncoded, readBody } from './form.ts';
import { parseKeyRequest, type KeyRequest } from './keys-request.ts';
import { COMMON_HEADER_LIST, methodNotAllowed, setCommonHeaders } from './responses.ts';
import { writeAnswer, type Answer } from './answer.ts';
import { EventAnswer, EventFields } from './event-answer.ts';
import type { Requester } from './authorizer.ts';
import type { ServerMetrics } from './metrics.ts';

export interface KeysLimits {
  /** Largest request body (etcd's --max-request-bytes). */
  maxRequestBytes: number;
  /** Longest key, in bytes. */
  maxKeyBytes: number;
  /** How long a long-poll watch waits before the server ends it (etcd: 5 minutes). */
  watchTimeoutMs: number;
  /**
   * Watches one connection may hold open. Node hands pipelined requests to the handler at
   * once (Go serves them one by one), so without a bound one socket could open thousands.
   */
  maxWatchesPerConnection: number;
}

export const ALLOWED = ['HEAD', 'GET', 'PUT', 'POST', 'DELETE'];
const FORM_BODY_METHODS = new Set(['PUT', 'POST', 'DELETE']);
const WRITE_ACTIONS = new Set(['set', 'compareAndSwap', 'create', 'update']);

const insufficientCredentials = () => new EtcdError(EtcdErrorCode.Unauthorized, 'Insufficient credentials', 0);

/** A request read: the request, or the answer to its first invalid parameter. */
export type KeysPlan = { request: KeyRequest } | { answer: Answer };

/** The /v2/keys handler: parse, order writes through the node, answer as etcd does. */
export class KeysHandler {
  private readonly openWatches = new Set<() => void>();
  /** The open watches of each connection, to bound them and to end them all when it closes. */
  private readonly watchesPerSocket = new WeakMap<object, Set<() => void>>();
  /** The last event serialized for watchers, and when (its ttl depends on the time). */
  private lastLine: { ev: KvEvent; now: number; line: string } | null = null;
  private readonly eventFields: EventFields;

  constructor(
    private readonly node: StoreNode,
    private readonly clusterId: string,
    private readonly limits: KeysLimits,
    private readonly metrics: ServerMetrics,
    private readonly logger: Logger,
    /** etcd's hasKeyPrefixAccess: may this request touch `key` (the raw path after /v2/keys)? */
    private readonly authorize: (who: Requester, key: string, recursive: boolean) => Promise<boolean> = async () => true,
  ) {
    this.eventFields = new EventFields(clusterId);
  }

  /**
   * The node:http path: every /v2/keys request the fast path (fast-path/) leaves to node:http,
   * watches among them.
   */
  async handle(req: IncomingMessage, res: ServerResponse, keyPath: string, query: URLSearchParams, authKey = keyPath): Promise<void> {
    const method = req.method ?? 'GET';
    if (!ALLOWED.includes(method)) {
      setCommonHeaders(res);
      return methodNotAllowed(res, ALLOWED);
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.limits.maxRequestBytes);
    } catch (e) {
      if (!(e instanceof BodyTooLarge)) throw e;
      // The rest of an oversized body is not worth reading: close once answered.
      res.setHeader('Connection', 'close');
      return writeAnswer(res, this.errorAnswer(new EtcdError(EtcdErrorCode.InvalidForm, `request body is larger than --max-request-bytes (${e.limit} bytes)`, 0), 413));
    }
    const plan = this.plan(method, keyPath, query, req.headers['content-type'], body);
    if ('answer' in plan) return writeAnswer(res, plan.answer);
    const r = plan.request;
    if (!r.wait) return writeAnswer(res, await this.answer(r, req, authKey));
    if (!(await this.authorize(req, authKey, r.recursive))) return writeAnswer(res, this.errorAnswer(insufficientCredentials()));
    try {
      this.watch(req, res, r);
    } catch (e) {
      // Before any answer is out: a waitIndex no longer in the history (401).
      if (!(e instanceof EtcdError)) throw e;
      writeAnswer(res, this.failed(method, e));
    }
  }

  /**
   * Reads a request's parameters (the query, then a urlencoded body's) in etcd's order, or
   * answers the first invalid one with etcd's error. It has no effects, so the fast path can read
   * a request and still leave it to node:http (a watch).
   */
  plan(method: string, keyPath: string, query: URLSearchParams, contentType: string | undefined, bodyBytes: Buffer): KeysPlan {
    // Go's ParseForm reads a urlencoded body of PUT, POST and DELETE, and no other.
    const body = FORM_BODY_METHODS.has(method) && isUrlEncoded(contentType) ? formPairs(bodyBytes.toString('utf8')) : null;
    try {
      if (Buffer.byteLength(keyPath) > this.limits.maxKeyBytes) {
        throw new EtcdError(EtcdErrorCode.InvalidField, `key is longer than ${this.limits.maxKeyBytes} bytes`, 0);
      }
      return { request: parseKeyRequest(method, keyPath, new Form(query, body)) };
    } catch (e) {
      if (e instanceof EtcdError) return { answer: this.errorAnswer(e) };
      throw e;
    }
  }

  /** Authorizes and runs a request that is not a watch: the event, or etcd's error. */
  async answer(r: KeyRequest, who: Requester, authKey: string): Promise<Answer> {
    if (!(await this.authorize(who, authKey, r.recursive))) return this.errorAnswer(insufficientCredentials());
    try {
      return this.eventAnswer(await this.execute(r), r.noValueOnSuccess);
    } catch (e) {
      if (e instanceof EtcdError) return this.failed(r.method, e);
      this.logger.error({ err: e, method: r.method, key: r.key }, 'v2 request failed');
      return this.errorAnswer(new EtcdError(EtcdErrorCode.RaftInternal, e instanceof Error ? e.message : String(e), 0));
    }
  }

  private async execute(r: KeyRequest): Promise<KvEvent> {
    const nowMs = Date.now();
    switch (r.method) {
      case 'GET':
      case 'HEAD':
        if (r.quorum) await this.node.readBarrier();
        return this.node.keyspace.get(r.key, { recursive: r.recursive, sorted: r.sorted });
      case 'PUT':
        return this.propose({ op: 'set', key: r.key, value: r.value, dir: r.dir, ttlSeconds: r.ttlSeconds, prevExist: r.prevExist, prevValue: r.prevValue, prevIndex: r.prevIndex, refresh: r.refresh, nowMs });
      case 'POST':
        return this.propose({ op: 'createInOrder', dir: r.key, value: r.value, isDir: r.dir, ttlSeconds: r.ttlSeconds, nowMs });
      default:
        return this.propose({ op: 'delete', key: r.key, dir: r.dir, recursive: r.recursive, prevValue: r.prevValue, prevIndex: r.prevIndex, nowMs });
    }
  }

  private propose(cmd: KvCommand): Promise<KvEvent> {
    return this.node.propose(cmd);
  }

  /** The headers of a watch, as one list for writeHead (nothing set with setHeader before them). */
  private eventHeaders(etcdIndex: number): string[] {
    return this.eventFields.withIndexes(etcdIndex, this.node.raftIndex, this.node.raftTerm);
  }

  /** A request etcd counts as failed (etcd_http_failed_total): its error, answered. */
  private failed(method: string, err: EtcdError): Answer {
    this.metrics.failedRequest(method);
    return this.errorAnswer(err);
  }

  /** etcd's error JSON with its status; the index is the error's, as etcd reports it. */
  private errorAnswer(err: EtcdError, status = err.httpStatus): Answer {
    const headers = [...COMMON_HEADER_LIST, 'X-Etcd-Cluster-ID', this.clusterId, 'Content-Type', 'application/json', 'X-Etcd-Index', String(err.index)];
    return { status, headers, body: JSON.stringify(err.toJSON()) + '\n' };
  }

  /**
   * The answer to almost every request, framed with a Content-Length as etcd's are (writeHead
   * then end would send it chunked). With the one-list headers: 64-connection PUTs 20,617 ->
   * 21,086 per second, median of 5 interleaved rounds.
   */
  private eventAnswer(ev: KvEvent, noValueOnSuccess: boolean): Answer {
    const created = ev.action === 'create' || (ev.action === 'set' && !ev.prevNode);
    const body = noValueOnSuccess && WRITE_ACTIONS.has(ev.action) ? `{"action":"${ev.action}"}` : eventText(ev, Date.now());
    return new EventAnswer(created ? 201 : 200, body + '\n', this.eventFields, ev.etcdIndex, this.node.raftIndex, this.node.raftTerm);
  }

  /**
   * An event as a watch line. Every watcher of a key gets the same event object in the same
   * millisecond, so 10,000 watchers cost one serialization, not 10,000.
   */
  private eventLine(ev: KvEvent): string {
    const now = Date.now();
    if (this.lastLine?.ev !== ev || this.lastLine.now !== now) this.lastLine = { ev, now, line: eventText(ev, now) + '\n' };
    return this.lastLine.line;
  }

  /**
   * A long poll (or a stream with stream=true): headers go out at once with the index the
   * watch started at; each event is one JSON line. Ends on the first event (unless streaming),
   * when the client goes away, or after the watch timeout.
   */
  private watch(req: IncomingMessage, res: ServerResponse, r: KeyRequest): void {
    const socket = req.socket;
    let onSocket = this.watchesPerSocket.get(socket);
    if (!onSocket) {
      const set = new Set<() => void>();
      onSocket = set;
      this.watchesPerSocket.set(socket, set);
      // Responses queued behind a pipelined watch hear nothing when the socket goes: end them here.
      socket.once('close', () => {
        for (const f of [...set]) f();
      });
    }
    if (onSocket.size >= this.limits.maxWatchesPerConnection) {
      this.logger.warn({ remote: socket.remoteAddress, limit: this.limits.maxWatchesPerConnection }, 'closing a connection that pipelined too many watches');
      socket.destroy();
      return;
    }
    const socketWatches = onSocket;
    const startIndex = this.node.keyspace.index;
    const queued: KvEvent[] = [];
    let headersOut = false;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (lastLine?: string) => {
      if (finished) return;
      finished = true;
      socketWatches.delete(finish);
      watcher?.remove();
      if (timer) clearTimeout(timer);
      this.openWatches.delete(finish);
      if (!res.writableEnded) res.end(lastLine);
    };
    const deliver = (ev: KvEvent) => {
      if (finished) return;
      if (!headersOut) {
        queued.push(ev);
        return;
      }
      // A long poll ends with its event: one write (event and end of body) instead of two.
      if (r.stream) res.write(this.eventLine(ev));
      else finish(this.eventLine(ev));
    };
    // Registering may deliver a historic event synchronously, before headers are written.
    const watcher = this.node.keyspace.watch(r.key, { recursive: r.recursive, stream: r.stream, sinceIndex: r.waitIndex }, deliver);
    res.writeHead(200, this.eventHeaders(startIndex));
    res.flushHeaders();
    headersOut = true;
    timer = setTimeout(finish, this.limits.watchTimeoutMs);
    for (const ev of queued.splice(0)) deliver(ev);
    this.openWatches.add(finish);
    socketWatches.add(finish);
    req.on('close', finish);
    res.on('close', finish);
  }

  /** Ends every open watch (shutdown). */
  closeWatches(): void {
    for (const f of [...this.openWatches]) f();
  }
}
