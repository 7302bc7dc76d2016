import type { IncomingMessage } from 'node:http';

/**
 * Request parameters as Go's net/http gathers them for etcd: a urlencoded body's values first,
 * then the query's (so the body wins for single-value reads). A body of any other content type
 * is ignored, as Go ignores it.
 */
export class Form {
  private readonly values = new Map<string, string[]>();

  constructor(query: URLSearchParams, body: URLSearchParams | null) {
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

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than ${limit} bytes`);
  }
}

/** Reads the whole body, failing as soon as it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function isUrlEncoded(req: IncomingMessage): boolean {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
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
