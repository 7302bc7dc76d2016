import type { IncomingMessage } from 'node:http';
import { hasBody } from '../../lib/http-body.ts';

/**
 * Request parameters as Go's net/http gathers them for etcd: a urlencoded body's values first,
 * then the query's (so the body wins for single-value reads). A body of any other content type
 * is ignored, as Go ignores it.
 */
export class Form {
  private readonly values = new Map<string, string[]>();

  constructor(query: URLSearchParams, body: Iterable<[string, string]> | null) {
    for (const src of [body, query]) {
      if (!src) continue;
      for (const [k, v] of src) {
        const list = this.values.get(k);
        if (list) list.push(v);
        else this.values.set(k, [v]);
      }
    }
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The first value, or '' when absent (Go's FormValue). */
  value(key: string): string {
    return this.values.get(key)?.[0] ?? '';
  }

  keys(): string[] {
    return [...this.values.keys()];
  }
}

/**
 * A urlencoded body's pairs, as URLSearchParams reads them. A body without `%` or `+` has
 * nothing to decode, and is split here: URLSearchParams walks it a character at a time (5.5 µs
 * of a 1 KiB PUT, CPU profile at 64 connections) and builds each value a piece at a time.
 */
export function formPairs(text: string): Iterable<[string, string]> {
  if (text.includes('%') || text.includes('+')) return new URLSearchParams(text);
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
  }
  return pairs;
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/**
 * Reads the whole body, failing as soon as it passes `limit` bytes (the rest is then read and
 * dropped, so the answer can still be written). Events rather than `for await`: measured from
 * the handler's start to the body in hand, 40 µs mean with the async iterator, 26–35 µs with events.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge(limit));
  // A request without a body (most GETs) is answered without waiting for its 'end'.
  if (req.readableEnded || !hasBody(req)) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | null) => {
      req.off('data', onData).off('end', onEnd).off('error', finish).off('close', onClose);
      if (!err) return resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(new BodyTooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    const onClose = () => finish(new Error('the client closed the connection before the body was complete'));
    req.on('data', onData).on('end', onEnd).on('error', finish).on('close', onClose);
  });
}

/** Whether a Content-Type field names a urlencoded form (Go's ParseForm reads no other body). */
export function isUrlEncoded(contentType: string | undefined): boolean {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === 'application/x-www-form-urlencoded';
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | null {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return null;
}

/** Go's strconv.ParseUint(s, 10, 64), limited to JavaScript's safe integers. */
export function parseGoUint(s: string): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
