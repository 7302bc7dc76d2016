/**
 * Small HTTP backends on loopback for the proxy tests and the benchmark: each answers with its
 * name (and echoes X-Forwarded-* as JSON at /headers), and tunnels upgrades as a raw echo.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { GiveUp, startProcess, waitFor } from '../../lib/testing/process.ts';

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
  /** When true, every answer stops after its head: the connection is cut before the body, as when the process is killed while it answers. */
  breakAfterHead: boolean;
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
    if (backend.breakAfterHead) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(name) });
      res.flushHeaders();
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
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
    breakAfterHead: false,
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

/** A listener whose connects never complete: stands for an upstream host that is gone. */
export interface Unreachable {
  readonly address: string;
  close(): Promise<void>;
}

/**
 * A port on 127.0.0.1 where a connect hangs as it does to a killed container's address: a
 * child process listens with a queue of one and never accepts (its thread is blocked), and
 * connections fill the queue (two on Linux), so the kernel drops every SYN that follows.
 */
export async function startUnreachable(): Promise<Unreachable> {
  const script = `const s = require('net').createServer();
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(s.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;
  const child = startProcess(process.execPath, ['-e', script]);
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    await child.stop('SIGKILL');
  };
  await waitFor('the unreachable listener to listen', () => {
    if (child.child.exitCode !== null) throw new GiveUp(`it exited (${child.child.exitCode}): ${child.output()}`);
    return child.output().includes('\n');
  }, 10_000, 10);
  const port = Number(child.output().trim());
  for (let open = true; open; ) {
    if (fillers.length === 16) {
      await close();
      throw new Error('the unreachable listener kept accepting connections');
    }
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    fillers.push(s);
    // The first connect that does not complete at once finds the queue full.
    open = await new Promise<boolean>((r) => {
      const timer = setTimeout(() => r(false), 300);
      s.once('connect', () => {
        clearTimeout(timer);
        r(true);
      });
    });
  }
  return { address: `127.0.0.1:${port}`, close };
}
