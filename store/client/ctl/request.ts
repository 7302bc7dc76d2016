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

/** Status and body of a plain request. */
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
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'BERTH_HEADER_TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new PlainRequestError(url, goNetError(u, e), e.code === 'ECONNREFUSED')));
    req.end(body);
  });
}

/** A request that got no HTTP answer; `goMessage` is what Go's client would have said. */
export class PlainRequestError extends Error {
  constructor(readonly url: string, readonly goMessage: string, readonly dialFailed: boolean) {
    super(`Get "${url}": ${goMessage}`);
  }
}

const UNKNOWN_CA = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/** Node's socket and TLS errors in the words of Go's net and crypto/tls packages (etcdctl prints those). */
function goNetError(u: URL, e: NodeJS.ErrnoException): string {
  const addr = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
  if (e.code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (e.code === 'BERTH_HEADER_TIMEOUT') return `client: endpoint ${u.origin} exceeded header timeout`;
  if (e.code && UNKNOWN_CA.has(e.code)) return 'x509: certificate signed by unknown authority';
  if (e.code && /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|HANDSHAKE_FAILURE)/.test(e.code)) return 'remote error: tls: bad certificate';
  return e.message;
}

/**
 * etcd's client.ClusterError as etcdctl prints it (message, blank line, one detail line per
 * endpoint, blank line), and etcdctl's exit code: 2 when every endpoint refused the connection.
 */
export async function clusterErrorReport(endpoints: string[], init: FetchInit, timeoutMs = 2000): Promise<{ text: string; code: number } | null> {
  const failures: PlainRequestError[] = [];
  for (const ep of endpoints) {
    try {
      await plainRequest(`${ep.replace(/\/$/, '')}/version`, init, { timeoutMs });
    } catch (e) {
      if (e instanceof PlainRequestError) failures.push(e);
    }
  }
  if (failures.length === 0) return null;
  const lines = failures.map((f, i) => `error #${i}: ${f.goMessage}\n`);
  const text = `Error:  client: etcd cluster is unavailable or misconfigured; ${lines.join('; ')}\n${lines.join('')}\n`;
  return { text, code: failures.every((f) => f.dialFailed) ? 2 : 4 };
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
  return { username, password: await readStdinLine() };
}

let stdinLines: AsyncIterator<string> | null = null;

/**
 * The next line of stdin ('' at its end). One reader for the whole command: a second readline
 * interface would miss the lines the first had already buffered (`-u root` and `user add
 * alice` both reading piped passwords).
 */
export async function readStdinLine(): Promise<string> {
  if (!stdinLines) {
    const { createInterface } = await import('node:readline');
    stdinLines = createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
  }
  const next = await stdinLines.next();
  return next.done ? '' : next.value;
}

/**
 * etcdctl's endpoint sync: the cluster's member client URLs, after the ones given (so the
 * first given endpoint stays preferred), so a long watch survives the loss of that member.
 * Returns `given` unchanged when no endpoint lists the members.
 */
export async function syncEndpoints(given: string[], init: FetchInit, timeoutMs = 2000, debug?: (line: string) => void): Promise<string[]> {
  const norm = (u: string) => u.replace(/\/$/, '');
  debug?.(`start to sync cluster using endpoints(${given.join(',')})`);
  for (const ep of given) {
    try {
      debug?.(curlLine('GET', `${norm(ep)}/v2/members`, undefined));
      const res = await plainRequest(`${norm(ep)}/v2/members`, init, { timeoutMs });
      if (res.status !== 200) continue;
      const { members } = JSON.parse(res.body) as { members: { clientURLs: string[] }[] };
      const known = new Set(given.map(norm));
      const more = members.flatMap((m) => m.clientURLs).map(norm).filter((u) => !known.has(u) && known.add(u));
      debug?.(`got endpoints(${[...given, ...more].join(',')}) after sync`);
      return [...given, ...more];
    } catch {
      /* ask the next endpoint */
    }
  }
  return given;
}

/** A request as the curl command that repeats it (what etcdctl --debug prints). */
export function curlLine(method: string, url: string, body: string | undefined): string {
  return `cURL Command: curl -X ${method} ${url}${body ? ` -d "${body.replaceAll('"', '\\"')}"` : ''}`;
}
