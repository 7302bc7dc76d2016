/**
 * One keep-alive TCP connection to an upstream, carrying one request at a time: it writes the
 * request's head, streams its body, feeds the answer to a ResponseParser and hands the parts to
 * the request's sink. When an answer ends on a connection that may carry another request, its
 * owner (a pool in forward.ts) takes it back.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { UpstreamClosedError, UpstreamConnectTimeoutError, UpstreamTimeoutError } from './errors.ts';
import { ResponseParser, type ResponseHandler } from './response-parser.ts';

/**
 * How far a failed exchange got: `unsent` = the connection never opened, so nothing of the
 * request reached the upstream; `sent` = it may have; `answered` = the answer's head was handed
 * to the sink (which may not have passed it on yet).
 */
export type Progress = 'unsent' | 'sent' | 'answered';

/** Where one request's answer goes. */
export interface AnswerSink {
  onHead(status: number, headers: string[]): void;
  /** False when the client cannot take more now; the sink then calls `resumeFor` when it can. */
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
  /** The exchange failed, having got as far as `progress`. */
  onError(err: NodeJS.ErrnoException, progress: Progress): void;
}

export interface ConnectionOwner {
  /** An answer ended and the connection may carry another request. */
  release(conn: UpstreamConnection): void;
  /** The connection is closed: forget it. */
  forget(conn: UpstreamConnection): void;
}

/** As nginx's proxy_read_timeout: an upstream silent this long while a request waits on it has failed. */
const READ_TIMEOUT_MS = 60_000;

export class UpstreamConnection implements ResponseHandler {
  private readonly socket: Socket;
  private readonly parser = new ResponseParser(this);
  private sink: AnswerSink | null = null;
  private answered = false;
  private connected = false;
  /** Stops streaming the current request's body, while it streams. */
  private stopBody: (() => void) | null = null;
  private closed = false;
  /** Until when an idle pool may hand it out (the pool's clock). */
  idleUntil = 0;

  /**
   * `connectTimeoutMs`: a connect not done by then fails; without it a SYN to an address whose
   * host is gone (a killed container) waits for the kernel's verdict, 3 s or more.
   */
  constructor(host: string, port: number, connectTimeoutMs: number, private readonly owner: ConnectionOwner) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.setTimeout(connectTimeoutMs);
    this.socket.once('connect', () => {
      this.connected = true;
      this.socket.setTimeout(READ_TIMEOUT_MS);
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('end', () => this.onUpstreamEnd());
    this.socket.on('timeout', () =>
      this.fail(this.connected ? new UpstreamTimeoutError(`the upstream sent nothing for ${READ_TIMEOUT_MS / 1000} s`) : new UpstreamConnectTimeoutError(connectTimeoutMs)),
    );
    this.socket.on('error', (e: NodeJS.ErrnoException) => this.fail(e));
    this.socket.on('close', () => this.fail(new UpstreamClosedError('the connection to the upstream closed before its answer ended')));
  }

  /** The upstream's Keep-Alive timeout hint (ms) from its last answer, if it gave one. */
  get keepAliveHintMs(): number | undefined {
    return this.parser.keepAliveMs;
  }

  /**
   * Sends a request: `head` is its whole head (request line, fields, empty line); `body`, when
   * given, is streamed after it, re-chunked when `chunked` (the server hands us its bytes decoded).
   */
  send(method: string, head: string, body: IncomingMessage | null, chunked: boolean, sink: AnswerSink): void {
    this.sink = sink;
    this.answered = false;
    this.parser.begin(method);
    this.socket.write(head, 'latin1');
    if (body) this.streamBody(body, chunked);
  }

  /** Lets the answer flow again after the sink's client drained (ignored once the sink is done). */
  resumeFor(sink: AnswerSink): void {
    if (this.sink === sink) this.socket.resume();
  }

  /** The sink's client left: the answer is not wanted, and the connection cannot be reused mid-answer. */
  abort(sink: AnswerSink): void {
    if (this.sink !== sink) return;
    this.sink = null;
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.close();
    this.stopBody?.();
    this.socket.destroy();
    this.owner.forget(this);
  }

  onHead(status: number, headers: string[]): void {
    this.sink!.onHead(status, headers);
    this.answered = true;
  }

  onBody(chunk: Buffer): void {
    if (!this.sink!.onBody(chunk)) this.socket.pause();
  }

  onEnd(reusable: boolean): void {
    const sink = this.sink!;
    this.sink = null;
    if (this.socket.isPaused()) this.socket.resume();
    // The upstream answered before it read the whole body (a 413, say): the rest cannot follow.
    if (reusable && !this.stopBody && !this.closed) this.owner.release(this);
    else this.close();
    sink.onEnd();
  }

  private onData(data: Buffer): void {
    try {
      this.parser.execute(data);
    } catch (e) {
      this.fail(e as NodeJS.ErrnoException);
    }
  }

  private onUpstreamEnd(): void {
    try {
      this.parser.end(); // completes an answer framed by the close
    } catch (e) {
      this.fail(e as NodeJS.ErrnoException);
      return;
    }
    this.close();
  }

  private fail(err: NodeJS.ErrnoException): void {
    const sink = this.sink;
    this.sink = null;
    this.close();
    sink?.onError(err, this.answered ? 'answered' : this.connected ? 'sent' : 'unsent');
  }

  private streamBody(body: IncomingMessage, chunked: boolean): void {
    const socket = this.socket;
    const onData = (b: Buffer): void => {
      if (b.length === 0) return; // an empty chunk would end a chunked body
      let ok: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${b.length.toString(16)}\r\n`, 'latin1');
        socket.write(b);
        ok = socket.write('\r\n', 'latin1');
        socket.uncork();
      } else {
        ok = socket.write(b);
      }
      if (!ok) body.pause();
    };
    const onDrain = (): void => {
      body.resume();
    };
    const onEnd = (): void => {
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      stop();
    };
    const stop = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      socket.off('drain', onDrain);
      this.stopBody = null;
      // Unread rest of a body nobody will take: let the server discard it, not stall the client.
      if (!body.readableEnded) body.resume();
    };
    this.stopBody = stop;
    body.on('data', onData);
    body.once('end', onEnd);
    socket.on('drain', onDrain);
  }
}
