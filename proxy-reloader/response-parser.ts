/**
 * An incremental parser of the HTTP/1.1 answers on one upstream connection (RFC 9112): the
 * status line and header fields, then a body framed by Content-Length, by the chunked coding or
 * by the connection's end. Interim 1xx answers are skipped. It is strict where leniency would let
 * one answer smuggle another past the proxy: no folded header lines, no space before a field's
 * colon, one Content-Length value, Transfer-Encoding over Content-Length. It owns no socket: the
 * connection feeds it bytes and it calls its handler.
 */
import { UpstreamClosedError, UpstreamProtocolError } from './errors.ts';

export interface ResponseHandler {
  /** A final answer's status and fields as a flat [name, value, ...] list, as received. */
  onHead(status: number, headers: string[]): void;
  onBody(chunk: Buffer): void;
  /** The answer is complete; `reusable` says whether the connection may carry another request. */
  onEnd(reusable: boolean): void;
}

/** Bytes of a head (status line, fields) or of a chunk's trailer section. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line with its extensions. */
const MAX_CHUNK_LINE_BYTES = 4096;
/** 13 hex digits stay below 2^53, so the size is an exact number. */
const MAX_CHUNK_SIZE_DIGITS = 13;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;
/** What node:http refuses to send in a field value (control characters but tab). */
const FIELD_VALUE_FORBIDDEN = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d+$/;
const HEX = /^[0-9A-Fa-f]+$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;
const HEAD_TOO_LONG = `the upstream's head is longer than ${MAX_HEAD_BYTES} bytes`;
const TRAILERS_TOO_LONG = `the upstream's trailer section is longer than ${MAX_HEAD_BYTES} bytes`;
const CHUNK_LINE_TOO_LONG = `the upstream's chunk-size line is longer than ${MAX_CHUNK_LINE_BYTES} bytes`;
const CHUNK_TOO_LONG = 'a chunk is longer than its size line says';

/** The lower-cased tokens of a Connection field's value (or of several, joined by commas). */
export function connectionTokens(value: string): string[] {
  return value.split(',').map((t) => t.trim().toLowerCase());
}

/** `done`: an answer just ended inside `execute`, which tells the handler once it knows what follows. */
type State = 'idle' | 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done' | 'closed';

export class ResponseParser {
  private state: State = 'idle';
  /** The start of a line that did not end in the bytes seen so far. */
  private partial: Buffer | null = null;
  /** Where the next unread byte is after `readLine`. */
  private next = 0;
  private headBytes = 0;
  private headRequest = false;
  private status = 0;
  private version = 1;
  private headers: string[] = [];
  private remaining = 0;
  private reusable = true;
  /** The upstream's Keep-Alive timeout hint of the last answer (ms), if it gave one. */
  keepAliveMs: number | undefined;

  constructor(private readonly handler: ResponseHandler) {}

  /** Whether an answer is expected or being read. */
  private get busy(): boolean {
    return this.state !== 'idle' && this.state !== 'closed';
  }

  /** Expects the answer to a request with `method` (a HEAD answer has no body, whatever its fields say). */
  begin(method: string): void {
    if (this.state !== 'idle') throw new UpstreamProtocolError(`a new request was sent while the parser is ${this.state}`);
    this.state = 'head';
    this.headRequest = method === 'HEAD';
    this.startHead();
  }

  /** Stops parsing for good: bytes that arrive later are ignored. */
  close(): void {
    this.state = 'closed';
    this.partial = null;
  }

  /** Feeds bytes from the connection; throws an UpstreamProtocolError on a malformed answer. */
  execute(data: Buffer): void {
    let at = 0;
    while (at < data.length) {
      switch (this.state) {
        case 'closed':
        case 'done':
          return;
        case 'idle':
          throw new UpstreamProtocolError(`${data.length - at} bytes arrived when no request was waiting for an answer`);
        case 'head':
        case 'trailers': {
          const line = this.readLine(data, at, MAX_HEAD_BYTES - this.headBytes, this.state === 'head' ? HEAD_TOO_LONG : TRAILERS_TOO_LONG);
          if (line === null) return;
          at = this.next;
          this.headBytes += line.length + 2;
          if (this.state === 'head') this.headLine(line);
          else if (line === '') this.state = 'done';
          if (this.state === 'done') this.complete(data.length - at);
          break;
        }
        case 'length':
        case 'chunk-data': {
          const n = Math.min(this.remaining, data.length - at);
          this.remaining -= n;
          const chunk = at === 0 && n === data.length ? data : data.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-end';
          this.handler.onBody(chunk);
          if (this.state === 'done') this.complete(data.length - at);
          break;
        }
        case 'until-close':
          this.handler.onBody(at === 0 ? data : data.subarray(at));
          return;
        case 'chunk-size': {
          const line = this.readLine(data, at, MAX_CHUNK_LINE_BYTES, CHUNK_LINE_TOO_LONG);
          if (line === null) return;
          at = this.next;
          this.chunkSize(line);
          break;
        }
        case 'chunk-end': {
          const line = this.readLine(data, at, 2, CHUNK_TOO_LONG);
          if (line === null) return;
          at = this.next;
          if (line !== '') throw new UpstreamProtocolError(CHUNK_TOO_LONG);
          this.state = 'chunk-size';
          break;
        }
      }
    }
  }

  /**
   * The upstream ended the connection: that completes an answer framed by the close; any other
   * answer under way was cut short.
   */
  end(): void {
    if (this.state === 'until-close') {
      this.state = 'closed';
      this.handler.onEnd(false);
    } else if (this.busy) {
      const where = this.state === 'head' ? 'before its answer' : 'in the middle of its answer';
      this.close();
      throw new UpstreamClosedError(`the upstream closed the connection ${where}`);
    } else {
      this.close();
    }
  }

  /**
   * The next line (without CR LF or a bare LF) from the bytes kept so far and `data[at..]`, or
   * null when it has not ended yet (its start is kept).
   */
  private readLine(data: Buffer, at: number, limit: number, tooLong: string): string | null {
    const lf = data.indexOf(10, at);
    const kept = this.partial?.length ?? 0;
    if (lf < 0) {
      if (kept + data.length - at > limit) throw new UpstreamProtocolError(tooLong);
      this.partial = this.partial ? Buffer.concat([this.partial, data.subarray(at)]) : Buffer.from(data.subarray(at));
      return null;
    }
    if (kept + lf - at > limit) throw new UpstreamProtocolError(tooLong);
    this.next = lf + 1;
    const end = lf > at && data[lf - 1] === 13 ? lf - 1 : lf;
    if (!this.partial) return data.toString('latin1', at, end);
    const whole = Buffer.concat([this.partial, data.subarray(at, lf)]);
    this.partial = null;
    return whole.toString('latin1', 0, whole.length > 0 && whole[whole.length - 1] === 13 ? whole.length - 1 : whole.length);
  }

  private startHead(): void {
    this.headBytes = 0;
    this.status = 0;
    this.headers = [];
    this.reusable = true;
    this.keepAliveMs = undefined;
  }

  private headLine(line: string): void {
    if (this.status === 0) {
      const m = STATUS_LINE.exec(line);
      if (!m) throw new UpstreamProtocolError(`not an HTTP/1.x status line: ${JSON.stringify(line.slice(0, 80))}`);
      this.version = Number(m[1]);
      this.status = Number(m[2]);
      return;
    }
    if (line === '') return this.headEnd();
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // A field line that starts with white space continues the previous one (obs-fold), which
    // RFC 9112 5.2 lets a proxy reject; so does a name with space before its colon.
    if (!TOKEN.test(name)) throw new UpstreamProtocolError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    if (FIELD_VALUE_FORBIDDEN.test(value)) throw new UpstreamProtocolError(`header ${name} has a forbidden character in its value`);
    this.headers.push(name, value);
  }

  /** The head is complete: decide how the body is framed (RFC 9112 6.3). */
  private headEnd(): void {
    const status = this.status;
    if (status < 200) {
      if (status === 101) throw new UpstreamProtocolError('the upstream switched protocols on a request that did not ask for it');
      this.startHead(); // an interim answer (100 Continue, 103 Early Hints): the final one follows
      return;
    }
    let lengths: string[] | null = null;
    let codings: string | null = null;
    let connection: string | null = null;
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!;
      if (name.length < 10 || name.length > 17) continue; // keep-alive .. transfer-encoding: skips most fields cheaply
      const lower = name.toLowerCase();
      if (lower === 'content-length') (lengths ??= []).push(h[i + 1]!);
      else if (lower === 'transfer-encoding') codings = codings === null ? h[i + 1]! : `${codings}, ${h[i + 1]!}`;
      else if (lower === 'connection') connection = connection === null ? h[i + 1]! : `${connection},${h[i + 1]!}`;
      else if (lower === 'keep-alive') {
        const m = KEEP_ALIVE_TIMEOUT.exec(h[i + 1]!);
        if (m) this.keepAliveMs = Number(m[1]) * 1000;
      }
    }
    const tokens = connection === null ? [] : connectionTokens(connection);
    this.reusable = this.version === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');

    if (this.headRequest || status === 204 || status === 304) {
      this.state = 'done';
    } else if (codings !== null) {
      // Transfer-Encoding overrides Content-Length, which must not be passed on (RFC 9112 6.3).
      if (lengths) {
        this.dropField('content-length');
        this.reusable = false;
      }
      const last = codings.split(',').pop()!.trim().toLowerCase();
      if (last === 'chunked') this.state = 'chunk-size';
      else {
        this.state = 'until-close';
        this.reusable = false;
      }
    } else if (lengths) {
      this.remaining = this.contentLength(lengths);
      this.state = this.remaining > 0 ? 'length' : 'done';
    } else {
      this.state = 'until-close';
      this.reusable = false;
    }
    this.handler.onHead(status, h);
  }

  /** The one length that every Content-Length field (and list member) must agree on. */
  private contentLength(values: string[]): number {
    let length: string | null = null;
    for (const v of values) {
      for (const part of v.includes(',') ? v.split(',') : [v]) {
        const p = part.trim();
        if (!DIGITS.test(p) || p.length > 15) throw new UpstreamProtocolError(`invalid Content-Length ${JSON.stringify(v)}`);
        if (length !== null && Number(p) !== Number(length)) throw new UpstreamProtocolError(`conflicting Content-Length values ${JSON.stringify(values.join(', '))}`);
        length = p;
      }
    }
    return Number(length);
  }

  private dropField(lowerName: string): void {
    const h = this.headers;
    for (let i = h.length - 2; i >= 0; i -= 2) if (h[i]!.toLowerCase() === lowerName) h.splice(i, 2);
  }

  private chunkSize(line: string): void {
    const semi = line.indexOf(';');
    const digits = (semi < 0 ? line : line.slice(0, semi)).trimEnd();
    if (!HEX.test(digits) || digits.length > MAX_CHUNK_SIZE_DIGITS) throw new UpstreamProtocolError(`invalid chunk size line ${JSON.stringify(line.slice(0, 80))}`);
    const size = parseInt(digits, 16);
    if (size === 0) {
      this.state = 'trailers';
      this.headBytes = 0;
    } else {
      this.state = 'chunk-data';
      this.remaining = size;
    }
  }

  /**
   * An answer ended with `unread` bytes after it. Those belong to no request (requests are not
   * pipelined), so the connection cannot be trusted with another.
   */
  private complete(unread: number): void {
    this.state = unread > 0 ? 'closed' : 'idle';
    this.handler.onEnd(this.reusable && unread === 0);
  }
}
