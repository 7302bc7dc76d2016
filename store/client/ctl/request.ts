/**
 * Plain HTTP(S) requests for the ctl commands that are not key operations (members, health),
 * with the same TLS files and basic auth as the key client.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** TLS material and credentials from the global flags. */
export interface FetchInit {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  auth?: { username: string; password: string };
}

export interface PlainResponse {
  status: number;
  body: string;
}

/** One request; rejects on a network error or after `timeoutMs`, with Go's wording for errors. */
export function plainRequest(url: string, init: FetchInit, opts: { method?: string; json?: unknown; timeoutMs?: number } = {}): Promise<PlainResponse> {
  const u = new URL(url);
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  const headers: Record<string, string | number> = {};
  if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  if (init.auth) headers.authorization = 'Basic ' + Buffer.from(`${init.auth.username}:${init.auth.password}`).toString('base64');
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method: opts.method ?? 'GET', headers, ca: init.ca, cert: init.cert, key: init.key }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error('i/o timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`Get "${url}": ${goNetError(u, e)}`)));
    req.end(body);
  });
}

/** Node's socket errors in the words of Go's net package (etcdctl prints those). */
function goNetError(u: URL, e: NodeJS.ErrnoException): string {
  const addr = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
  if (e.code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  return e.message;
}

/** The TLS files named by --ca-file/--cert-file/--key-file (or their v3 names --cacert/--cert/--key). */
export function tlsFiles(v: Record<string, unknown>): Pick<FetchInit, 'ca' | 'cert' | 'key'> | undefined {
  const ca = (v.caFile ?? v.cacert) as string | undefined;
  const cert = (v.certFile ?? v.cert) as string | undefined;
  const key = (v.keyFile ?? v.key) as string | undefined;
  if (!ca && !cert) return undefined;
  return { ca: ca ? readFileSync(ca) : undefined, cert: cert ? readFileSync(cert) : undefined, key: key ? readFileSync(key) : undefined };
}

/** `-u user:password`; without `:password` etcdctl prompts, we read it from stdin. */
export async function credentials(username: string | undefined): Promise<FetchInit['auth']> {
  if (!username) return undefined;
  const at = username.indexOf(':');
  if (at >= 0) return { username: username.slice(0, at), password: username.slice(at + 1) };
  process.stderr.write('Password: ');
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, terminal: false });
  const password = await new Promise<string>((r) => rl.once('line', r).once('close', () => r('')));
  rl.close();
  return { username, password };
}
