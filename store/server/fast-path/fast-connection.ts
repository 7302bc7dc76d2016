/**
 * One client connection served without node:http for as long as its requests are ones the fast
 * path answers: read a whole request (head and body), answer it, then the next, one at a time as
 * Go serves a connection. Skipping node:http's parser callbacks, request and response objects
 * and stream events raised a member's PUT throughput by 7–19% (store/server/README.md). The
 * first request the fast path does not answer (a watch, another path, a head it defers) hands
 * the connection, with every byte not yet answered, to node:http for good.
 */
import type { Socket } from 'node:net';
import type { Answer } from '../answer.ts';
import { COMMON_HEADER_LIST } from '../responses.ts';
import { bareAnswer, type BareStatus } from '../bare-answers.ts';
import { answerBytes } from './answer-bytes.ts';
import { readRequestHead, type RequestHead } from './request-head.ts';

export interface FastRequest {
  method: string;
  /** Path and query as sent, still percent-encoded. */
  target: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: Buffer;
  socket: Socket;
}

/** The answer to a request, or null to leave it (and from then on the connection) to node:http. */
export type FastAnswerer = (req: FastRequest) => Promise<Answer> | null;

export interface FastConnectionOptions {
  answer: FastAnswerer;
  /** node:http takes the socket; what was read and not answered has been put back into it. */
  handOff(socket: Socket): void;
  /** A longer body is left to node:http, which refuses it (413) without reading it all. */
  maxBodyBytes: number;
  /** A longer head is left to node:http, which refuses it (431). */
  maxHeadBytes: number;
  /** A request's head must arrive within this many ms of its first byte (408 after). */
  headersTimeoutMs: number;
  /** The whole request within this many ms of its first byte (408 after). */
  requestTimeoutMs: number;
  /** An idle connection is closed after this many ms (and a second, as node:http allows). */
  keepAliveTimeoutMs: number;
  /** An answer failed (a bug): it is logged here and the client gets a 500. */
  onError(err: unknown): void;
}

const INTERNAL_ERROR: Answer = {
  status: 500,
  headers: [...COMMON_HEADER_LIST, 'Content-Type', 'text/plain; charset=utf-8', 'X-Content-Type-Options', 'nosniff'],
  body: 'internal server error\n',
};

export class FastConnection {
  /** Bytes read and not yet answered, in arrival order (joined only when a head is read). */
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** How many buffered bytes the request being read needs in all, once its head is known. */
  private needed = 0;
  /** When the first byte of the request being read arrived. */
  private requestStart = 0;
  private slowTimer: NodeJS.Timeout | null = null;
  /** The limit `slowTimer` enforces: the head's, then the whole request's. */
  private slowLimitMs = 0;
  private answering = false;
  private waitingDrain = false;
  private readPaused = false;
  private clientEnded = false;
  private closing = false;
  private handedOff = false;

  constructor(
    private readonly socket: Socket,
    private readonly o: FastConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(o.keepAliveTimeoutMs + 1000);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onIdle);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** The server is closing: an idle connection ends now, a busy one once its answer is out. */
  close(): void {
    this.closing = true;
    if (!this.busy) this.socket.destroy();
  }

  private get busy(): boolean {
    return this.answering || this.waitingDrain;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.bufferedBytes === 0) this.requestStart = Date.now();
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    // Pipelined requests queue behind the one being answered; past the largest request there is
    // to read, let TCP hold the rest back.
    if (this.busy && this.bufferedBytes > this.o.maxHeadBytes + this.o.maxBodyBytes && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
    if (this.bufferedBytes >= this.needed) this.serve();
  };

  private readonly onEnd = (): void => {
    this.clientEnded = true;
    if (!this.busy) this.serve();
  };

  private readonly onIdle = (): void => {
    if (!this.busy && this.bufferedBytes === 0) this.socket.destroy();
  };

  /** A reset or a write to a closed peer: nothing is left to answer on this socket. */
  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.clearSlowTimer();
    this.chunks = [];
    this.bufferedBytes = 0;
  };

  /** Answers the buffered requests in order until one is incomplete, in flight, or left to node:http. */
  private serve(): void {
    while (!this.busy && !this.handedOff && !this.socket.destroyed) {
      if (this.bufferedBytes === 0) {
        if (this.clientEnded || this.closing) this.socket.destroySoon();
        return;
      }
      const buf = this.joined();
      const read = readRequestHead(buf, this.o.maxHeadBytes);
      if (read.kind === 'defer') return this.handOff();
      if (read.kind === 'incomplete') return this.awaitRest(this.o.headersTimeoutMs);
      const head = read.head;
      if (head.contentLength > this.o.maxBodyBytes) return this.handOff();
      const total = head.length + head.contentLength;
      if (buf.length < total) {
        this.needed = total;
        return this.awaitRest(this.o.requestTimeoutMs);
      }
      const pending = this.answer(head, buf.subarray(head.length, total));
      if (!pending) return this.handOff();
      this.take(buf, total);
      this.answering = true;
      pending.then(
        (a) => this.respond(head, a),
        (err: unknown) => {
          this.o.onError(err);
          this.respond(head, INTERNAL_ERROR);
        },
      );
    }
  }

  private answer(head: RequestHead, body: Buffer): Promise<Answer> | null {
    try {
      return this.o.answer({ method: head.method, target: head.target, contentType: head.contentType, authorization: head.authorization, body, socket: this.socket });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private respond(head: RequestHead, a: Answer): void {
    this.answering = false;
    if (this.socket.destroyed) return;
    const keepAlive = head.keepAlive && !this.closing;
    const flushed = this.socket.write(answerBytes(a, head.method === 'HEAD', keepAlive, this.o.keepAliveTimeoutMs));
    if (!keepAlive) return void this.socket.destroySoon();
    if (!flushed) {
      this.waitingDrain = true;
      this.socket.once('drain', () => {
        this.waitingDrain = false;
        this.serve();
      });
      return;
    }
    this.serve();
  }

  /** The buffered bytes as one buffer (joined once, kept joined). */
  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.bufferedBytes)];
    return this.chunks[0]!;
  }

  /** Drops the `n` bytes of a request being answered; the next one (pipelined) starts now. */
  private take(buf: Buffer, n: number): void {
    this.chunks = n === buf.length ? [] : [buf.subarray(n)];
    this.bufferedBytes -= n;
    this.needed = 0;
    // A pipelined request behind it starts now; otherwise the next byte to come starts one (onData).
    if (this.bufferedBytes > 0) this.requestStart = Date.now();
    this.clearSlowTimer();
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** Waits for the rest of a request, as long as the slow-client limit measured from its first byte allows. */
  private awaitRest(limitMs: number): void {
    // node:http answers a request cut short by the client's end as a parse error (listener.ts).
    if (this.clientEnded) return this.refuse('400 Bad Request');
    // Its deadline is fixed by the request's first byte: each new piece of a head need not move it.
    if (this.slowTimer && this.slowLimitMs === limitMs) return;
    this.clearSlowTimer();
    this.slowLimitMs = limitMs;
    this.slowTimer = setTimeout(() => {
      this.slowTimer = null;
      if (this.socket.destroyed || this.busy || this.handedOff) return;
      this.refuse('408 Request Timeout');
    }, Math.max(0, this.requestStart + limitMs - Date.now()));
  }

  private refuse(status: BareStatus): void {
    this.clearSlowTimer();
    this.socket.end(bareAnswer(status));
    this.socket.destroySoon();
  }

  private clearSlowTimer(): void {
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.slowTimer = null;
  }

  /** node:http takes the connection from here, starting with the bytes not yet answered. */
  private handOff(): void {
    this.handedOff = true;
    this.clearSlowTimer();
    const s = this.socket;
    s.off('data', this.onData).off('end', this.onEnd).off('timeout', this.onIdle).off('error', this.onError).off('close', this.onClose);
    s.setTimeout(0);
    if (this.bufferedBytes > 0) s.unshift(this.joined());
    this.chunks = [];
    this.bufferedBytes = 0;
    this.o.handOff(s);
    if (this.readPaused) s.resume();
  }
}
