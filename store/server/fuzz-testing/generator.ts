/**
 * Seeded random and mutated HTTP requests for the fuzz test: methods, paths (traversal,
 * escapes, NUL and control bytes, long and unicode segments), query strings, bodies
 * (forms, JSON, bytes) and headers (credentials good and bad, odd content types). A tenth are
 * mutations of a well-formed request at the byte level, sent over a raw socket.
 */
import type { Rand } from '../../../lib/rand.ts';
import { basicAuthHeader } from '../auth-testing/probe.ts';

/** Who a request claims to be; `root` requests only ever target /fuzz (see the test). */
export type Identity = 'anonymous' | 'root' | 'pub' | 'wrong-password' | 'unknown-user' | 'garbage-header';

export interface FuzzRequest {
  identity: Identity;
  method: string;
  /** The request target as sent (already escaped, or deliberately not). */
  target: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Send bytes over a raw socket instead of an HTTP client (mutated or unusual requests). */
  raw?: Buffer;
}

const METHODS = ['GET', 'GET', 'GET', 'PUT', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE', 'BREW', 'get'];
const PLAIN_SEGMENTS = ['fuzz', 'public', 'secret', 'a', 'b', '_hidden', 'dir', '1', 's0', 'p0', 'pub', 'reader', 'guest', 'root'];
const ODD_SEGMENTS = ['..', '.', '', '%2e%2e', '%2F', '%00', '%0a', 'ünï', '%ff', 'x'.repeat(300), '*', '?', '%3F', '%25', '-1', 'null'];
const QUERY_KEYS = ['wait', 'recursive', 'sorted', 'quorum', 'ttl', 'prevExist', 'prevValue', 'prevIndex', 'waitIndex', 'dir', 'stream', 'refresh', 'noValueOnSuccess', 'value', 'x'];
const QUERY_VALUES = ['true', 'false', '1', '0', '5', 'true', 'false', 'v', '-1', '', 'yes', '99999999999999999999', '1e3', '%00', 'NaN', 'secret', 'ü'];
const PREFIXES = ['/v2/keys', '/v2/keys', '/v2/keys', '/v2/keys', '/v2/auth/users', '/v2/auth/roles', '/v2/auth/enable', '/v2/members', '/v2/stats', '/v2/machines', '/version', '/health', '/metrics', '/v2', '', '/dashboard/api/sample'];
const CONTENT_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-16', ''];

function randomPath(r: Rand, forRoot: boolean): string {
  if (forRoot) return '/v2/keys/fuzz' + Array.from({ length: r.range(0, 3) }, () => '/' + r.pick(['a', 'b', 'c', 'dir', 'n' + r.int(50)])).join('');
  const prefix = r.pick(PREFIXES);
  const depth = r.range(0, 4);
  let p = prefix;
  for (let i = 0; i < depth; i++) p += '/' + (r.chance(0.8) ? r.pick(PLAIN_SEGMENTS) : r.pick(ODD_SEGMENTS));
  if (r.chance(0.1)) p += '/';
  return p || '/';
}

function randomQuery(r: Rand, forRoot: boolean): string {
  const n = r.range(0, 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.pick(QUERY_KEYS);
    // A root watch could wait minutes for a write; root requests never wait.
    if (forRoot && (k === 'wait' || k === 'stream')) continue;
    parts.push(`${k}=${r.pick(QUERY_VALUES)}`);
  }
  if (r.chance(0.05)) parts.push('&&=&' + r.pick(QUERY_VALUES));
  return parts.length ? '?' + parts.join('&') : '';
}

function randomBody(r: Rand, contentType: string): Buffer {
  const kind = r.int(5);
  if (kind === 0) return Buffer.alloc(0);
  if (kind === 1 || contentType.startsWith('application/x-www-form')) {
    const params = new URLSearchParams();
    for (let i = 0; i < r.range(0, 4); i++) params.append(r.pick(QUERY_KEYS), r.chance(0.2) ? 'v'.repeat(r.range(0, 5000)) : r.pick(QUERY_VALUES));
    return Buffer.from(params.toString());
  }
  if (kind === 2 || contentType === 'application/json') {
    const pick = r.int(6);
    const bodies = [
      { user: r.pick(['x', 'root', 'pub', '']), password: r.pick(['p', '', 'pubpw']), roles: r.chance(0.5) ? ['reader'] : null, grant: r.chance(0.3) ? ['root'] : undefined },
      { role: r.pick(['reader', 'guest', 'root', 'x']), grant: { kv: { read: ['/secret/*'], write: ['/*'] } } },
      { role: 5, permissions: 'nope' },
      [1, 2, 3],
      null,
      { peerURLs: ['http://127.0.0.1:1'] },
    ];
    return Buffer.from(JSON.stringify(bodies[pick]));
  }
  const bytes = Buffer.alloc(r.range(1, 200));
  for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
  return bytes;
}

function headersFor(r: Rand, identity: Identity, contentType: string): Record<string, string> {
  const h: Record<string, string> = {};
  if (contentType) h['content-type'] = contentType;
  if (identity === 'root') h.authorization = basicAuthHeader('root', 'rootpw');
  if (identity === 'pub') h.authorization = basicAuthHeader('pub', 'pubpw');
  if (identity === 'wrong-password') h.authorization = basicAuthHeader('pub', 'nope');
  if (identity === 'unknown-user') h.authorization = basicAuthHeader('mallory', 'pubpw');
  if (identity === 'garbage-header') h.authorization = r.pick(['Basic', 'Basic !!!', 'Bearer x', 'basic cm9vdA==', 'Basic ' + Buffer.from('root').toString('base64')]);
  if (r.chance(0.05)) h['x-forwarded-for'] = '10.0.0.' + r.int(255);
  if (r.chance(0.03)) h['x-long'] = 'z'.repeat(r.range(1000, 20000));
  return h;
}

/** Byte-level mutation of a serialised request: flips, inserts, deletes and truncation. */
function mutate(r: Rand, bytes: Buffer): Buffer {
  const out = [...bytes];
  for (let i = 0, n = r.range(1, 6); i < n; i++) {
    const at = r.int(Math.max(1, out.length));
    const op = r.int(4);
    if (op === 0) out[at] = r.int(256);
    else if (op === 1) out.splice(at, 0, r.pick([0, 10, 13, 32, 37, 58, 63, 127, 255]));
    else if (op === 2) out.splice(at, r.range(1, 8));
    else out.length = Math.max(1, at);
  }
  return Buffer.from(out);
}

export function serialise(req: FuzzRequest): Buffer {
  const head = [`${req.method} ${req.target} HTTP/1.1`, 'Host: fuzz', ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${req.body.length}`, 'Connection: close', '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), req.body]);
}

const IDENTITIES: Identity[] = ['anonymous', 'anonymous', 'anonymous', 'pub', 'pub', 'root', 'unknown-user', 'garbage-header'];

export function generateRequest(r: Rand): FuzzRequest {
  // Wrong passwords cost a bcrypt check each (on purpose): keep them rare so the run stays fast.
  const identity: Identity = r.chance(0.004) ? 'wrong-password' : r.pick(IDENTITIES);
  const forRoot = identity === 'root';
  const method = forRoot ? r.pick(['GET', 'PUT', 'PUT', 'POST', 'DELETE', 'HEAD']) : r.pick(METHODS);
  const contentType = r.pick(CONTENT_TYPES);
  const req: FuzzRequest = { identity, method, target: randomPath(r, forRoot) + randomQuery(r, forRoot), headers: headersFor(r, identity, contentType), body: randomBody(r, contentType) };
  if (!forRoot && r.chance(0.1)) req.raw = mutate(r, serialise(req));
  return req;
}
