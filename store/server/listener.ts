/**
 * One client listener: plain HTTP or TLS (with optional client-certificate verification), with
 * the slow-client and size limits every berth client port has.
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsMaterial } from '../transport/tls-material.ts';
import { ListenError } from '../../lib/errors.ts';
import { bareAnswer } from './bare-answers.ts';
import type { FastAnswerer } from './fast-path/fast-connection.ts';
import { serveFastPath, type FastPath } from './fast-path/serve-fast-path.ts';

/** Largest request head (request line + headers) accepted; bigger gets 431. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** An idle keep-alive connection is closed after this long. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface ListenerOptions {
  /** A request's head must arrive within this many ms of its first byte (408 after). */
  headersTimeoutMs: number;
  /** The whole request (head and body) must arrive within this many ms (408 after). */
  requestTimeoutMs: number;
  tls?: TlsMaterial;
  clientCertAuth: boolean;
  /** Answers most /v2/keys requests of plain-HTTP connections without node:http (fast-path/). */
  fastPath?: { answer: FastAnswerer; maxBodyBytes: number; onError(err: unknown): void; onHandOff(): void };
}

function makeServer(u: URL, o: ListenerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const httpOptions: ServerOptions = {
    headersTimeout: o.headersTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderSize: MAX_HEADER_BYTES,
    // How often stalled connections are checked against the timeouts above (default 30 s).
    connectionsCheckingInterval: 1000,
  };
  if (u.protocol === 'http:') return createServer(httpOptions, handler);
  if (u.protocol !== 'https:') throw new Error(`${u.href}: expected http:// or https://`);
  if (!o.tls) throw new Error(`${u.href}: an https:// URL needs --cert-file and --key-file (or --auto-tls)`);
  const verify = o.clientCertAuth;
  return createHttpsServer({ ...httpOptions, cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: verify, rejectUnauthorized: verify, handshakeTimeout: 10_000 }, handler);
}

export interface ClientListener {
  server: Server;
  /** The bound URL (port 0 resolved). */
  url: string;
  /** The fast path in front of `server`; null on https:// (TLS connections go to node:http). */
  fastPath: FastPath | null;
}

/** Starts listening on `listen`. */
export async function listenClientUrl(listen: string, o: ListenerOptions, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<ClientListener> {
  const u = new URL(listen);
  const server = makeServer(u, o, handler);
  const fastPath =
    o.fastPath && u.protocol === 'http:'
      ? serveFastPath(server, { ...o.fastPath, maxHeadBytes: MAX_HEADER_BYTES, headersTimeoutMs: o.headersTimeoutMs, requestTimeoutMs: o.requestTimeoutMs, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS })
      : null;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return void socket.destroy(err);
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // destroySoon: the server's sockets allow half-open, so end() alone would leave the
    // connection (and its descriptor) to a client that never closes its side.
    socket.end(bareAnswer(status));
    socket.destroySoon();
  });
  const host = u.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ListenError('--listen-client-urls', listen, e)));
    server.listen(Number(u.port || 80), host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `${u.protocol}//${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`, fastPath };
}
