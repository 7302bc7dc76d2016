/**
 * Sends a scenario request and reduces the answer to what must be equal between berth and
 * etcd: the status and the body, with indexes, times and cluster-specific fields removed.
 */
import { CREDENTIALS, type ProbeRequest } from './scenario.ts';

export interface ProbeOutcome {
  request: string;
  status: number;
  body: unknown;
}

/** Strips what legitimately differs between two stores from a v2 keys body. */
function normalizeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'modifiedIndex' || k === 'createdIndex' || k === 'index' || k === 'expiration' || k === 'ttl') continue;
    // etcd lists a directory in Go map order unless sorted=true: compare as sets.
    out[k] = k === 'nodes' && Array.isArray(x) ? (normalizeKeys(x) as { key: string }[]).sort((a, b) => (a.key < b.key ? -1 : 1)) : normalizeKeys(x);
  }
  return out;
}

export function basicAuthHeader(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

export async function probe(baseUrl: string, r: ProbeRequest, fetchImpl: typeof fetch = fetch): Promise<ProbeOutcome> {
  const headers: Record<string, string> = {};
  if (r.contentType) headers['content-type'] = r.contentType;
  if (r.as) {
    const [u, p] = CREDENTIALS[r.as]!;
    headers.authorization = basicAuthHeader(u, p);
  }
  const request = `${r.as ?? 'anonymous'} ${r.method} ${r.path}`;
  const controller = new AbortController();
  const res = await fetchImpl(baseUrl + r.path, { method: r.method, headers, body: r.body, redirect: 'manual', signal: controller.signal });
  if (r.path.includes('wait=true') && res.status === 200) {
    // A watch that was let in answers its headers at once and then waits: that is the outcome.
    controller.abort();
    return { request, status: res.status, body: 'watching' };
  }
  const text = await res.text();
  if (r.statusOnly) return { request, status: res.status, body: 'not compared' };
  let body: unknown = text.trim();
  try {
    body = normalizeKeys(JSON.parse(text));
  } catch {
    /* plain text (405, 404 pages) */
  }
  return { request, status: res.status, body };
}
