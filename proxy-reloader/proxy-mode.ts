/**
 * Built-in proxy mode: a StoreView over the routes' service directories feeds the upstream
 * pools directly (no debounce: a new upstream should serve within milliseconds), through the
 * mass-removal guard; the proxy server and the optional active health checker use the pools.
 */
import type { Logger } from '../lib/log.ts';
import type { KvBackend } from '../store/client/kv-backend.ts';
import { systemClock, type Clock } from './clock.ts';
import { HealthChecker, type HealthCheckOptions } from './health-checker.ts';
import { ProxyServer } from './proxy-server.ts';
import { RemovalGuard } from './removal-guard.ts';
import { RouteTable, type Route } from './routes.ts';
import { upstreamsIn } from './services.ts';
import { StoreView } from './store-view.ts';
import { UpstreamPool, type Strategy } from './upstream-pool.ts';

export interface ProxyModeOptions {
  kv: KvBackend;
  routes: Route[];
  listenHost: string;
  listenPort: number;
  strategy: Strategy;
  maxFails: number;
  ejectMs: number;
  /** A connect to an upstream not done in this long fails (and is retried on another upstream). */
  connectTimeoutMs: number;
  health?: HealthCheckOptions;
  maxRemovalPct: number;
  removalGraceMs: number;
  statusPath: string;
  /** Slow start ramp for new upstreams in ms (0 = off). */
  slowStartMs?: number;
  /** Sticky sessions cookie name (off when unset). */
  stickyCookie?: string;
  logger: Logger;
  clock?: Clock;
}

export class ProxyMode {
  readonly table: RouteTable;
  readonly pools = new Map<string, UpstreamPool>();
  readonly server: ProxyServer;
  private readonly view: StoreView;
  private readonly guard: RemovalGuard;
  private readonly health: HealthChecker | null;
  private readonly clock: Clock;
  private recheck: unknown = null;
  private lastChangeAt: string | null = null;

  constructor(private readonly opts: ProxyModeOptions) {
    this.clock = opts.clock ?? systemClock;
    this.table = new RouteTable(opts.routes);
    for (const dir of this.table.serviceDirs()) this.pools.set(dir, new UpstreamPool({ strategy: opts.strategy, maxFails: opts.maxFails, ejectMs: opts.ejectMs, clock: this.clock, slowStartMs: opts.slowStartMs }));
    this.guard = new RemovalGuard(opts.maxRemovalPct, opts.removalGraceMs);
    this.view = new StoreView({ kv: opts.kv, prefixes: this.table.serviceDirs(), logger: opts.logger, onChange: () => this.sync() });
    this.health = opts.health ? new HealthChecker(this.pools, opts.health, opts.logger) : null;
    this.server = new ProxyServer({ routes: this.table, pools: this.pools, logger: opts.logger, statusPath: opts.statusPath, connectTimeoutMs: opts.connectTimeoutMs, stickyCookie: opts.stickyCookie, status: () => this.status() });
  }

  /** Listens at once (answering 503 until upstreams are known) and starts watching. */
  async start(): Promise<void> {
    await this.server.listen(this.opts.listenPort, this.opts.listenHost);
    this.view.start();
    this.health?.start();
    this.opts.logger.info({ listen: `${this.opts.listenHost}:${this.server.port}`, routes: this.opts.routes.map((r) => r.raw) }, 'proxy listening');
  }

  /** Resolves once every watched directory has been read. */
  get ready(): Promise<void> {
    return this.view.ready;
  }

  private sync(): void {
    const keys = this.view.keys;
    const next = new Map(this.table.serviceDirs().map((d) => [d, upstreamsIn(keys, d)]));
    const decision = this.guard.decide(next, this.clock.now());
    for (const [dir, pool] of this.pools) {
      const { added, removed } = pool.update(decision.upstreams.get(dir) ?? []);
      if (added.length || removed.length) {
        this.lastChangeAt = new Date(this.clock.now()).toISOString();
        this.opts.logger.info({ service: dir, added, removed, index: this.view.status().index }, 'upstreams changed');
      }
    }
    this.server.clients.prune(new Set([...this.pools.values()].flatMap((p) => p.list().map((m) => m.address))));
    if (decision.held.length > 0) {
      this.opts.logger.warn({ services: decision.held }, 'mass removal held back for the grace period');
      if (this.recheck !== null) this.clock.clearTimeout(this.recheck);
      this.recheck = this.clock.setTimeout(() => this.sync(), Math.max(0, decision.recheckAt! - this.clock.now()));
    }
  }

  /** The /status document: store state, routes, upstreams and their health. */
  status(): unknown {
    const now = this.clock.now();
    return {
      store: { ...this.view.status(), lastChangeAt: this.lastChangeAt },
      requests: { failed: this.server.failed, retried: this.server.retried },
      routes: this.opts.routes.map((r) => {
        const pool = this.pools.get(r.serviceDir)!;
        return {
          route: r.raw,
          service: r.serviceDir,
          strategy: this.opts.strategy,
          healthy: pool.healthyCount(),
          upstreams: pool.list().map((m) => ({
            address: m.address,
            id: m.id,
            healthy: m.healthy,
            ejected: m.ejectedUntil > now,
            draining: m.draining,
            inflight: m.inflight,
            served: m.served,
          })),
        };
      }),
    };
  }

  async stop(): Promise<void> {
    this.health?.stop();
    if (this.recheck !== null) this.clock.clearTimeout(this.recheck);
    await this.view.stop();
    await this.server.close();
  }
}
