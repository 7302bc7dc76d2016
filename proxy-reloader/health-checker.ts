/**
 * Active health checks: every `intervalMs`, GET `path` on each upstream of each pool; `fall`
 * consecutive failures mark it unhealthy, `rise` consecutive successes healthy again.
 * A status below 500 within `timeoutMs` counts as success.
 */
import { request } from 'node:http';
import type { Logger } from '../lib/log.ts';
import type { UpstreamPool } from './upstream-pool.ts';

export interface HealthCheckOptions {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

function probe(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'berth-proxy-health' } }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

export class HealthChecker {
  private timer: NodeJS.Timeout | null = null;
  private readonly streak = new Map<string, number>(); // >0 successes, <0 failures
  private running = false;

  constructor(
    private readonly pools: ReadonlyMap<string, UpstreamPool>,
    private readonly opts: HealthCheckOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.round(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One check of every upstream (skipped if the previous round is still running). */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const checks: Promise<void>[] = [];
      for (const pool of this.pools.values()) {
        for (const m of pool.list()) {
          if (m.draining) continue;
          checks.push(probe(m.host, m.port, this.opts.path, this.opts.timeoutMs).then((ok) => this.record(pool, m.address, m.healthy, ok)));
        }
      }
      await Promise.all(checks);
    } finally {
      this.running = false;
    }
  }

  private record(pool: UpstreamPool, address: string, wasHealthy: boolean, ok: boolean): void {
    const prev = this.streak.get(address) ?? 0;
    const s = ok ? Math.max(prev, 0) + 1 : Math.min(prev, 0) - 1;
    this.streak.set(address, s);
    if (wasHealthy && s <= -this.opts.fall) {
      pool.setHealthy(address, false);
      this.logger.warn({ upstream: address, path: this.opts.path }, 'upstream failed its health check');
    } else if (!wasHealthy && s >= this.opts.rise) {
      pool.setHealthy(address, true);
      this.logger.info({ upstream: address }, 'upstream healthy again');
    }
  }
}
