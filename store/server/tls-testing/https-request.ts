/** A small HTTPS client for tests that present (or withhold) client certificates. */
import { request } from 'node:https';

export interface TlsClientOptions {
  /** Accept any server certificate (for --auto-tls's self-signed ones). */
  insecure?: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface SimpleResponse {
  status: number;
  body: string;
}

/** Resolves with the answer, rejects when the TLS handshake (or connection) fails. */
export function httpsRequest(url: string, tls: TlsClientOptions, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure, headers: opts.headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A urlencoded PUT of `value`. */
export function putForm(url: string, tls: TlsClientOptions, value: string, headers: Record<string, string> = {}): Promise<SimpleResponse> {
  return httpsRequest(url, tls, { method: 'PUT', body: new URLSearchParams({ value }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}
