/** Readiness: a TCP port counts as ready once it accepts a connection. */
import { connect } from 'node:net';

/** One connection attempt; true when it was accepted within `timeoutMs`. */
export function portAccepts(ip: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Options for waitForPort. */
export interface WaitForPortOptions {
  signal: AbortSignal;
  /** Give up (false) after this long. */
  timeoutMs: number;
  /** Pause between attempts. */
  intervalMs?: number;
}

/** Tries until the port accepts (true), the deadline passes or the signal aborts (false). */
export async function waitForPort(ip: string, port: number, opts: WaitForPortOptions): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 100;
  while (!opts.signal.aborted && Date.now() < deadline) {
    if (await portAccepts(ip, port, Math.min(1000, Math.max(1, deadline - Date.now())))) return !opts.signal.aborted;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, interval);
      function done() {
        clearTimeout(timer);
        opts.signal.removeEventListener('abort', done);
        resolve();
      }
      opts.signal.addEventListener('abort', done, { once: true });
    });
  }
  return false;
}
