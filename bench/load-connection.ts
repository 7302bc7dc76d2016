/**
 * One keep-alive connection of the load generator, one request at a time: the proxy's upstream
 * connection (a `net` socket read by its HTTP/1.1 answer parser) in place of node:http's client.
 *
 * The generator shares the machine's cores with the stores it measures, and whatever it spends
 * is taken from both stores alike, which pulls their ratio towards 1. Through node:http's client
 * it spent 31 µs of CPU per request (user 23-24, system 7.5: 64 connections of PUTs to one
 * member, process.cpuUsage); this way it spends 16-17 (user 10-11, system 6-7).
 *
 *   const c = new LoadConnection(new URL('http://127.0.0.1:2379'));
 *   const status = await c.request('PUT', '/v2/keys/a', 'value=1');
 */
import { UpstreamConnection, type AnswerSink, type ConnectionOwner } from '../proxy-reloader/upstream-connection.ts';

/** The stores measured are on loopback: a connect this slow means one is not serving. */
const CONNECT_TIMEOUT_MS = 5000;

interface Waiting {
  resolve(status: number): void;
  reject(err: Error): void;
}

/** Owns its upstream connection, and is the sink of every answer on it (one object, not one per request). */
export class LoadConnection implements ConnectionOwner, AnswerSink {
  /** Opened at the first request, and again after the store closed it. */
  private upstream: UpstreamConnection | null = null;
  private waiting: Waiting | null = null;
  private status = 0;
  private readonly host: string;
  private readonly port: number;
  private readonly hostField: string;

  constructor(base: URL) {
    this.host = base.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(base.port || 80);
    this.hostField = base.host;
  }

  /**
   * Sends one request and resolves with its answer's status. A body is sent as a urlencoded
   * form, which is ASCII: the request goes out as one latin1 string.
   */
  request(method: string, path: string, body?: string): Promise<number> {
    const upstream = (this.upstream ??= new UpstreamConnection(this.host, this.port, CONNECT_TIMEOUT_MS, this));
    const fields = body === undefined ? '' : `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n`;
    const answered = new Promise<number>((resolve, reject) => (this.waiting = { resolve, reject }));
    upstream.send(method, `${method} ${path} HTTP/1.1\r\nHost: ${this.hostField}\r\n${fields}\r\n${body ?? ''}`, null, false, this);
    return answered;
  }

  close(): void {
    this.upstream?.close();
  }

  onHead(status: number): void {
    this.status = status;
  }

  onBody(): boolean {
    return true;
  }

  onEnd(): void {
    this.settle()?.resolve(this.status);
  }

  onError(err: Error): void {
    this.settle()?.reject(err);
  }

  /** An answer ended and the connection stays open: it carries this loop's next request. */
  release(): void {}

  forget(conn: UpstreamConnection): void {
    if (this.upstream === conn) this.upstream = null;
  }

  private settle(): Waiting | null {
    const w = this.waiting;
    this.waiting = null;
    return w;
  }
}
