import { createServer } from 'node:net';

/**
 * Ports this process has handed out. The OS may offer a port again as soon as the probe closes
 * it, and two servers of one test (a member and the relay in front of another) must not be
 * given the same one.
 */
const handedOut = new Set<number>();

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it), never one this process handed out before. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await osPickedPort(host);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('freePort: the OS offered only ports already handed out, 50 times');
}

function osPickedPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs `start` again (up to `attempts` times) when it failed on a port in use: a free port can
 * be taken by another process between freePort() and the bind.
 */
export async function retryOnPortInUse<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (e) {
      if (attempt >= attempts || !/address already in use|EADDRINUSE/.test(String(e))) throw e;
    }
  }
}
