/**
 * Small HTTP backends on loopback for the proxy tests and the benchmark: each answers with its
 * name (and echoes X-Forwarded-* as JSON at /headers), and tunnels upgrades as a raw echo.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Requests answered. */
  hits: number;
  /** performance.now() of the first request, or null. */
  firstHitAt: number | null;
  /** What GET /health answers: 200 when true, 503 when false. */
  healthy: boolean;
  /** Closes the listener and destroys every open connection (a crash, as clients see it). */
  kill(): Promise<void>;
  /** Graceful stop. */
  close(): Promise<void>;
}

/** Starts a backend on 127.0.0.1 (port 0 = any free port). */
export async function startBackend(name: string, port = 0): Promise<Backend> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(backend.healthy ? 200 : 503);
      res.end();
      return;
    }
    backend.hits++;
    backend.firstHitAt ??= performance.now();
    if (req.url === '/headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name, headers: req.headers }));
      return;
    }
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.end(name), 300);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(name) });
    res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.on('data', (d: Buffer) => socket.write(`${name}:${d.toString()}`));
    socket.on('end', () => socket.end()); // upgraded sockets are half-open by default
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const a = server.address();
  const bound = typeof a === 'object' && a ? a.port : port;
  const backend: Backend = {
    name,
    port: bound,
    address: `127.0.0.1:${bound}`,
    hits: 0,
    firstHitAt: null,
    healthy: true,
    kill: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await closed;
    },
  };
  return backend;
}
