/** Makes a v2 response comparable across stores: indexes relative to the sequence start, times masked. */
export interface Captured {
  status: number;
  contentType: string;
  etcdIndex: number | null;
  hasRaftHeaders: boolean;
  hasClusterId: boolean;
  /** Access-Control-Allow-Origin: etcd's CORS headers are on every answer. */
  cors: string | null;
  /** How the body is framed: 'length' (Content-Length), 'chunked', or 'none'. */
  framing: string;
  body: unknown;
}

export function normalizeIndex(n: number, base: number): number {
  return n >= base ? n - base : n;
}

function normalizeNode(node: Record<string, unknown>, base: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'modifiedIndex' || k === 'createdIndex') out[k] = normalizeIndex(v as number, base);
    else if (k === 'expiration') out[k] = '<expiration>';
    else if (k === 'ttl') out[k] = '<ttl>';
    else if (k === 'key') out[k] = (v as string).replace(/\/(\d{20})(?=\/|$)/g, (_, d: string) => `/<inorder:${normalizeIndex(Number(d), base)}>`);
    else if (k === 'nodes') {
      out[k] = (v as Record<string, unknown>[]).map((n) => normalizeNode(n, base)).sort((a, b) => String(a.key).localeCompare(String(b.key)));
    } else out[k] = v;
  }
  return out;
}

export function normalizeBody(body: unknown, base: number): unknown {
  if (body === null || typeof body !== 'object') return body;
  const b = body as Record<string, unknown>;
  const out: Record<string, unknown> = { ...b };
  if (b.node) out.node = normalizeNode(b.node as Record<string, unknown>, base);
  if (b.prevNode) out.prevNode = normalizeNode(b.prevNode as Record<string, unknown>, base);
  if (typeof b.errorCode === 'number') {
    if (typeof b.index === 'number') out.index = normalizeIndex(b.index, base);
    if (typeof b.cause === 'string') out.cause = b.cause.replace(/\d+/g, (d) => String(normalizeIndex(Number(d), base)));
  }
  return out;
}

export async function capture(res: Response, base: number): Promise<Captured> {
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('application/json') && text.trim() !== '') {
    body = text
      .trim()
      .split('\n')
      .map((line) => normalizeBody(JSON.parse(line), base));
  }
  const idx = res.headers.get('x-etcd-index');
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    etcdIndex: idx === null ? null : normalizeIndex(Number(idx), base),
    hasRaftHeaders: res.headers.has('x-raft-index') && res.headers.has('x-raft-term'),
    hasClusterId: res.headers.has('x-etcd-cluster-id'),
    cors: res.headers.get('access-control-allow-origin'),
    // Go frames a small whole answer with Content-Length and a watch (flushed early) chunked.
    framing: res.headers.has('content-length') ? 'length' : res.headers.get('transfer-encoding') ?? 'none',
    body,
  };
}
