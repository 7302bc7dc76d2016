import type { ServerResponse } from 'node:http';

/** Headers etcd 3.4 puts on every client response (its CORS defaults). */
export const COMMON_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Origin': '*',
};

/** COMMON_HEADERS as a flat [name, value, ...] list, for writeHead. */
export const COMMON_HEADER_LIST: readonly string[] = Object.entries(COMMON_HEADERS).flat();

export function setCommonHeaders(res: ServerResponse): void {
  for (const k in COMMON_HEADERS) res.setHeader(k, COMMON_HEADERS[k]!);
}

/**
 * A whole answer with its Content-Length, as Go's net/http frames a small body; writeHead then
 * end would send it chunked.
 */
function endWhole(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  endWhole(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(body) + '\n');
}

/** Go's http.Error: a plain-text line. */
export function writeText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  endWhole(res, status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers }, text + '\n');
}

/** 405 with the allowed methods, as etcd answers. */
export function methodNotAllowed(res: ServerResponse, allowed: string[]): void {
  writeText(res, 405, 'Method Not Allowed', { Allow: allowed.join(',') });
}

/** etcd's JSON for non-keys errors (members, stats): {"message":"..."}. */
export function writeHttpError(res: ServerResponse, status: number, message: string): void {
  writeJson(res, status, { message });
}
