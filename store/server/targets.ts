/**
 * Request targets as etcd's Go server reads them: the path percent-decoded, then cleaned as
 * Go's ServeMux cleans it (a request whose path is not clean is redirected to the clean one).
 */

/** An empty ('//'), '.' or '..' segment, or a trailing '/': what canonicalPath must look at. */
const UNCLEAN_SEGMENT = /\/(?:\.\.?)?(?:\/|$)/;

/** Go's ServeMux path cleaning: the canonical form a request is redirected to. */
export function canonicalPath(p: string): string {
  // Nearly every path is clean already: no empty, '.' or '..' segment to drop.
  if (p.charCodeAt(0) === 47 && !UNCLEAN_SEGMENT.test(p)) return p;
  return cleanBySegments(p);
}

/** The same cleaning done segment by segment, for any path. */
export function cleanBySegments(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = '/' + p;
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let np = '/' + parts.join('/');
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** Go's url.URL path escaping, for the Location of a redirect (a raw newline would split headers). */
export function escapePath(p: string): string {
  let out = '';
  for (const byte of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export interface Target {
  /** The decoded path; null when it cannot be decoded or holds a NUL (answered 400). */
  path: string | null;
  /** Its clean form; null when `path` is. */
  canonical: string | null;
  query: URLSearchParams;
  /** Where the query starts in the raw target (-1: none), for a redirect that keeps it. */
  queryStart: number;
}

export function readTarget(raw: string): Target {
  const q = raw.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  let path: string | null = null;
  try {
    const encoded = q >= 0 ? raw.slice(0, q) : raw;
    path = encoded.includes('%') ? decodeURIComponent(encoded) : encoded;
  } catch {
    // answered 400 by the caller
  }
  const canonical = path === null || path.includes('\0') ? null : canonicalPath(path);
  return { path, canonical, query, queryStart: q };
}

export interface KeysTarget {
  /** The key's path after /v2/keys ('/' for the root). */
  keyPath: string;
  /** The same, as etcd's permission check sees it ('' for the root). */
  authKey: string;
  query: URLSearchParams;
}

/** A /v2/keys target in clean form; null for any other target. */
export function keysTarget(t: Target): KeysTarget | null {
  const path = t.path;
  if (path === null || t.canonical !== path || (path !== '/v2/keys' && !path.startsWith('/v2/keys/'))) return null;
  const key = path.slice('/v2/keys'.length);
  return { keyPath: key || '/', authKey: key, query: t.query };
}
