/**
 * Sends fuzz requests: well-formed ones with node:http over keep-alive connections, raw ones
 * (mutated bytes, or what node:http refuses to send) over a fresh socket. A watch that was let
 * in is read briefly (historic events arrive at once) and then abandoned.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { serialise, type FuzzRequest } from './generator.ts';

export interface FuzzAnswer {
  /** 0: no status line came back (connection closed or timed out). */
  status: number;
  body: string;
  timedOut: boolean;
}

const WATCH_READ_MS = 150;
const TIMEOUT_MS = 10_000;
const RAW_TIMEOUT_MS = 1500;

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function sendRaw(port: number, bytes: Buffer): Promise<FuzzAnswer> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.end(bytes));
    let out = '';
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(out);
      resolve({ status: m ? Number(m[1]) : 0, body: out, timedOut });
    };
    const timer = setTimeout(() => finish(true), RAW_TIMEOUT_MS);
    s.on('data', (b) => (out += b.toString('latin1')));
    s.on('end', () => finish(false));
    s.on('close', () => finish(false));
    s.on('error', () => finish(false));
  });
}

function sendHttp(port: number, req: FuzzRequest): Promise<FuzzAnswer> {
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (a: FuzzAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.target, headers: { ...req.headers, 'content-length': String(req.body.length) }, agent }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body, timedOut: false }));
      res.on('error', () => finish({ status: res.statusCode ?? 0, body, timedOut: false }));
      if (/[?&]wait=/.test(req.target) && res.statusCode === 200) {
        setTimeout(() => {
          finish({ status: 200, body, timedOut: false });
          r.destroy();
        }, WATCH_READ_MS);
      }
    });
    timer = setTimeout(() => {
      r.destroy();
      finish({ status: 0, body: '', timedOut: true });
    }, TIMEOUT_MS);
    r.on('error', () => finish({ status: 0, body: '', timedOut: false }));
    r.end(req.body);
  });
}

/** Sends one request; never rejects. */
export async function send(port: number, req: FuzzRequest): Promise<FuzzAnswer> {
  if (req.raw) return sendRaw(port, req.raw);
  try {
    return await sendHttp(port, req);
  } catch {
    // node:http refused to build it (a method or path it will not send): send it raw.
    return sendRaw(port, serialise(req));
  }
}
