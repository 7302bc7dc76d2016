/**
 * One keep-alive connection of the load generator, one request at a time, written straight to
 * a `net` socket and read back with the proxy's HTTP/1.1 answer parser.
 *
 * The generator shares the machine's cores with the stores it measures, and whatever it spends
 * is taken from both stores alike, which pulls their ratio towards 1. Through node:http's client
 * it spent 31 µs of CPU per request (user 23-24, system 7.5: 64 connections of PUTs to one
 * member, process.cpuUsage); this way it spends 16 (user 9-10, system 6-8).
 *
 *   const c = new LoadConnection(new URL('http://127.0.0.1:2379'));
 *   const status = await c.request('PUT', '/v2/keys/a', 'value=1');
 */
import { connect, type Socket } from 'node:net';
import { UpstreamClosedError } from '../proxy-reloader/errors.ts';
import { ResponseParser, type ResponseHandler } from '../proxy-reloader/response-parser.ts';

interface Waiting {
  resolve(status: number): void;
  reject(err: Error): void;
}

export class LoadConnection implements ResponseHandler {
  private socket: Socket | null = null;
  private parser: ResponseParser | null = null;
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

  /** Sends one request (a body is sent form-encoded) and resolves with its answer's status. */
  request(method: string, path: string, body?: string): Promise<number> {
    if (this.waiting) return Promise.reject(new Error('a request is already waiting for its answer'));
    const parser = this.parser ?? this.open();
    parser.begin(method);
    const fields = body === undefined ? '' : `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    this.socket!.write(`${method} ${path} HTTP/1.1\r\nHost: ${this.hostField}\r\n${fields}\r\n${body ?? ''}`);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  close(): void {
    this.drop();
  }

  onHead(status: number): void {
    this.status = status;
  }

  onBody(): void {}

  onEnd(reusable: boolean): void {
    const w = this.waiting;
    this.waiting = null;
    if (!reusable) this.drop();
    w?.resolve(this.status);
  }

  private open(): ResponseParser {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const parser = new ResponseParser(this);
    socket.on('data', (d: Buffer) => this.guard(socket, () => parser.execute(d)));
    socket.on('end', () => this.guard(socket, () => parser.end()));
    socket.on('error', (e) => this.fail(socket, e));
    socket.on('close', () => this.fail(socket, new UpstreamClosedError('the connection closed before its answer ended')));
    this.socket = socket;
    this.parser = parser;
    return parser;
  }

  /** Runs a parser step; a malformed or cut-short answer fails the waiting request. */
  private guard(socket: Socket, step: () => void): void {
    try {
      step();
    } catch (e) {
      this.fail(socket, e as Error);
    }
  }

  /** The connection failed: the waiting request gets the error, the next one a new connection. */
  private fail(socket: Socket, err: Error): void {
    if (socket !== this.socket) return;
    this.drop();
    const w = this.waiting;
    this.waiting = null;
    w?.reject(err);
  }

  private drop(): void {
    this.parser?.close();
    this.socket?.destroy();
    this.socket = null;
    this.parser = null;
  }
}
