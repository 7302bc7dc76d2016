/**
 * The head of the next HTTP/1.1 request in a connection's buffer, for the fast path. It takes
 * only what the fast path can answer exactly as node:http would: the origin-form target of an
 * HTTP/1.1 request line, well-formed fields with one Host, a body framed by one Content-Length
 * or none. Everything else is `defer`: chunked or expected bodies, upgrades, HTTP/1.0, obsolete
 * line folding, bare line feeds, a field the answer depends on given twice. node:http then
 * takes the connection and answers it as it always has, errors included, so the fast path
 * adds no new way to read a malformed request.
 */

export interface RequestHead {
  method: string;
  /** The request target as sent: path and query, still percent-encoded. */
  target: string;
  /** Bytes of the head, up to and including the empty line. */
  length: number;
  contentLength: number;
  /** False when the client sent `Connection: close`. */
  keepAlive: boolean;
  contentType: string | undefined;
  authorization: string | undefined;
}

export type HeadResult = { kind: 'incomplete' } | { kind: 'defer' } | { kind: 'head'; head: RequestHead };

const INCOMPLETE: HeadResult = { kind: 'incomplete' };
const DEFER: HeadResult = { kind: 'defer' };

const REQUEST_LINE = /^([A-Z]+) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters but tab: node:http refuses them in a field value. */
const FIELD_VALUE_FORBIDDEN = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^\d+$/;
const CRLF = Buffer.from('\r\n\r\n');
/** Fields the fast path does not serve: node:http knows what to do with them. */
const DEFERRED_FIELDS = new Set(['transfer-encoding', 'expect', 'upgrade', 'http2-settings']);

/** A line feed that no carriage return precedes: node:http reads those leniently, so it decides. */
function hasBareLineFeed(text: string): boolean {
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) if (i === 0 || text.charCodeAt(i - 1) !== 13) return true;
  return false;
}

/** Reads the head at the start of `buf`; `maxHeadBytes` bounds how long an incomplete one may grow. */
export function readRequestHead(buf: Buffer, maxHeadBytes: number): HeadResult {
  const end = buf.indexOf(CRLF);
  if (end < 0) {
    if (buf.length > maxHeadBytes) return DEFER;
    // node:http refuses a bad line as soon as it has it: so does the fast path, by deferring.
    const text = buf.toString('latin1');
    const complete = text.lastIndexOf('\r\n');
    if (hasBareLineFeed(text) || (complete >= 0 && readLines(text.slice(0, complete).split('\r\n'), end) === DEFER)) return DEFER;
    return INCOMPLETE;
  }
  if (end + 4 > maxHeadBytes) return DEFER;
  const text = buf.toString('latin1', 0, end);
  if (hasBareLineFeed(text)) return DEFER;
  return readLines(text.split('\r\n'), end);
}

/** The request line and fields of a head ending at `end` (-1: not yet ended, only the lines' validity counts). */
function readLines(lines: string[], end: number): HeadResult {
  const line = REQUEST_LINE.exec(lines[0]!);
  if (!line) return DEFER;
  let contentLength: string | undefined;
  let contentType: string | undefined;
  let authorization: string | undefined;
  let hosts = 0;
  let keepAlive = true;
  for (let i = 1; i < lines.length; i++) {
    const field = lines[i]!;
    const colon = field.indexOf(':');
    if (colon <= 0) return DEFER;
    const name = field.slice(0, colon).toLowerCase();
    const value = field.slice(colon + 1).trim();
    if (!TOKEN.test(name) || FIELD_VALUE_FORBIDDEN.test(value) || DEFERRED_FIELDS.has(name)) return DEFER;
    switch (name) {
      case 'host':
        hosts++;
        break;
      case 'content-length':
        if (contentLength !== undefined || !DIGITS.test(value)) return DEFER;
        contentLength = value;
        break;
      case 'content-type':
        if (contentType !== undefined) return DEFER;
        contentType = value;
        break;
      case 'authorization':
        if (authorization !== undefined) return DEFER;
        authorization = value;
        break;
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const t = token.trim();
          if (t === 'close') keepAlive = false;
          else if (t === 'upgrade') return DEFER;
        }
        break;
    }
  }
  if (end < 0) return INCOMPLETE;
  if (hosts !== 1) return DEFER;
  const length = contentLength === undefined ? 0 : Number(contentLength);
  if (!Number.isSafeInteger(length)) return DEFER;
  return { kind: 'head', head: { method: line[1]!, target: line[2]!, length: end + 4, contentLength: length, keepAlive, contentType, authorization } };
}
