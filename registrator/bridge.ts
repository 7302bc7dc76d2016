/**
 * The bridge: keeps the registry in step with the containers it is told about. It knows no
 * Docker API (it gets ContainerViews) and no store (it talks to a RegistryAdapter).
 *
 * Invariants: `registered` holds what this process keeps alive with TTL refreshes; store writes
 * for one container run one after another (a deregister never overtakes the register it undoes);
 * a resync writes only entries whose value or metadata differ from the store.
 */
import { silentLogger, type Logger } from '../lib/log.ts';
import type { RegistryAdapter } from './adapter.ts';
import { ServiceMissingError } from './errors.ts';
import { waitForPort } from './port-probe.ts';
import { exclusionReason, servicesFor, type ServiceOptions } from './services-from-container.ts';
import { serviceMeta, serviceValue, type ContainerView, type Service, type StoredService } from './types.ts';

/** Readiness probe: resolves true once ip:port accepts connections. */
export type PortProbe = (ip: string, port: number, opts: { signal: AbortSignal; timeoutMs: number }) => Promise<boolean>;

/** Bridge settings: how services are derived plus readiness. */
export interface BridgeOptions extends ServiceOptions {
  /** --wait-for-port: register a TCP service only once its port accepts connections. */
  readonly waitForPort: boolean;
  readonly waitForPortTimeoutMs: number;
  readonly logger?: Logger;
  /** Injected in unit tests; default: a real TCP connect. */
  readonly probe?: PortProbe;
}

function sameEntry(a: Service, b: Service): boolean {
  return serviceValue(a) === serviceValue(b) && serviceMeta(a) === serviceMeta(b);
}

/** Entries are told apart by name and id together (`<name>/<id>`, as in the key). */
function storeKey(s: { name: string; id: string }): string {
  return `${s.name}/${s.id}`;
}

function storedMatches(s: Service, stored: StoredService | undefined): boolean {
  return stored !== undefined && stored.value === serviceValue(s) && stored.meta === serviceMeta(s);
}

export class Bridge {
  private readonly registered = new Map<string, Service>();
  private readonly pending = new Map<string, AbortController>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  /** Deregistrations the store did not take; retried with every refresh. */
  private readonly failedDeletes = new Map<string, Service>();
  private readonly log: Logger;
  private readonly probe: PortProbe;

  constructor(
    private readonly adapter: RegistryAdapter,
    private readonly opts: BridgeOptions,
  ) {
    this.log = opts.logger ?? silentLogger;
    this.probe = opts.probe ?? ((ip, port, o) => waitForPort(ip, port, o));
  }

  /** Services this process currently keeps registered (for tests and status). */
  registeredServices(): Service[] {
    return [...this.registered.values()];
  }

  /**
   * Brings one container's entries up to date: registers what it should have (after readiness),
   * removes what it no longer should. `stored` (by `<name>/<id>`, from a resync) lets it skip
   * entries already correct and repair entries that differ from what it wrote.
   */
  add(c: ContainerView, stored?: ReadonlyMap<string, StoredService>): void {
    const reason = exclusionReason(c, this.opts);
    if (reason !== undefined) return this.remove(c.id, reason);
    const wanted = servicesFor(c, this.opts);
    const wantedIds = new Set(wanted.map((s) => s.id));
    for (const s of this.servicesOf(c.id)) if (!wantedIds.has(s.id)) this.deregister(s, 'no longer published');
    const toWrite: Service[] = [];
    for (const s of wanted) {
      const current = this.registered.get(s.id);
      const inStore = stored?.get(storeKey(s));
      if (current && sameEntry(current, s)) {
        // A resync found the store different from what this process wrote: put it right now.
        if (stored && !storedMatches(s, inStore)) this.register(s);
        continue;
      }
      if (!current && storedMatches(s, inStore)) {
        // Written by an earlier run and still right: adopt it without a write.
        this.registered.set(s.id, s);
        this.failedDeletes.delete(s.id);
        continue;
      }
      toWrite.push(s);
    }
    if (toWrite.length > 0) this.startReadiness(c, toWrite);
  }

  /** Deregisters every entry of a container and cancels a pending readiness wait. */
  remove(containerId: string, reason: string): void {
    this.pending.get(containerId)?.abort();
    this.pending.delete(containerId);
    for (const s of this.servicesOf(containerId)) this.deregister(s, reason);
  }

  /** Stops refreshing a container's entries without deleting them: they expire by TTL. */
  forget(containerId: string, reason: string): void {
    this.pending.get(containerId)?.abort();
    this.pending.delete(containerId);
    for (const s of this.servicesOf(containerId)) {
      this.registered.delete(s.id);
      this.log.info({ container: s.container.name, key: this.adapter.keyOf(s), reason }, 'left to expire');
    }
  }

  /**
   * Reconciles with the full list of running containers (Docker is authoritative): adds what is
   * missing, removes what this process registered for containers that are gone, and with
   * `cleanup` also this host's entries that no container accounts for.
   */
  async sync(containers: readonly ContainerView[], cleanup: boolean): Promise<void> {
    this.retryFailedDeletes();
    const stored = await this.adapter.services();
    const storedByKey = new Map(stored.map((s) => [storeKey(s), s]));
    const live = new Set(containers.map((c) => c.id));
    for (const c of containers) this.add(c, storedByKey);
    for (const s of [...this.registered.values()]) if (!live.has(s.container.id)) this.deregister(s, 'container gone');
    for (const id of [...this.pending.keys()]) if (!live.has(id)) this.remove(id, 'container gone');
    if (!cleanup) return;
    // By name and id: an entry left under a service's old name is stale even though its id lives on.
    const wanted = new Set(containers.flatMap((c) => servicesFor(c, this.opts).map(storeKey)));
    for (const st of stored) {
      const mine = this.registered.get(st.id);
      if (wanted.has(storeKey(st)) || (mine && mine.name === st.name) || !this.ownedByThisHost(st)) continue;
      this.run('cleanup', async () => {
        await this.adapter.deregister(st);
        this.log.info({ key: this.adapter.keyOf(st), value: st.value }, 'cleaned up stale entry');
      });
    }
  }

  private ownedByThisHost(st: StoredService): boolean {
    if (st.id.startsWith(`${this.opts.hostId}:`)) return true;
    try {
      return (JSON.parse(st.meta ?? '{}') as { hostId?: unknown }).hostId === this.opts.hostId;
    } catch {
      return false;
    }
  }

  /**
   * Extends the TTL of every registered entry, re-registers entries that expired meanwhile and
   * retries deregistrations that failed.
   */
  refreshAll(): void {
    this.retryFailedDeletes();
    for (const s of this.registered.values()) {
      this.run(s.container.id, async () => {
        if (this.registered.get(s.id) !== s) return;
        try {
          await this.adapter.refresh(s);
        } catch (e) {
          if (!(e instanceof ServiceMissingError)) throw e;
          if (this.registered.get(s.id) !== s) return;
          await this.adapter.register(s);
          this.log.info({ container: s.container.name, key: this.adapter.keyOf(s), value: serviceValue(s) }, 're-registered expired entry');
        }
      });
    }
  }

  /** Resolves when no readiness wait and no store write is in flight. */
  async idle(): Promise<void> {
    while (this.tasks.size > 0 || this.chains.size > 0) {
      await Promise.allSettled([...this.tasks, ...this.chains.values()]);
    }
  }

  /** Cancels readiness waits (on shutdown); entries stay for their TTL. */
  close(): void {
    for (const ac of this.pending.values()) ac.abort();
    this.pending.clear();
  }

  private servicesOf(containerId: string): Service[] {
    return [...this.registered.values()].filter((s) => s.container.id === containerId);
  }

  private startReadiness(c: ContainerView, services: Service[]): void {
    this.pending.get(c.id)?.abort();
    const ac = new AbortController();
    this.pending.set(c.id, ac);
    const task = (async () => {
      for (const s of services) {
        if (this.opts.waitForPort && s.proto === 'tcp') {
          const ok = await this.probe(s.probe.ip, s.probe.port, { signal: ac.signal, timeoutMs: this.opts.waitForPortTimeoutMs });
          if (ac.signal.aborted) return;
          if (!ok) {
            this.log.warn({ container: c.name, probe: `${s.probe.ip}:${s.probe.port}`, timeoutMs: this.opts.waitForPortTimeoutMs }, 'port never accepted connections; not registered');
            continue;
          }
        }
        if (ac.signal.aborted) return;
        this.register(s);
      }
    })().finally(() => {
      if (this.pending.get(c.id) === ac) this.pending.delete(c.id);
      this.tasks.delete(task);
    });
    this.tasks.add(task);
  }

  private register(s: Service): void {
    const previous = this.registered.get(s.id);
    this.registered.set(s.id, s);
    this.failedDeletes.delete(s.id);
    this.run(s.container.id, async () => {
      if (this.registered.get(s.id) !== s) return;
      if (previous && previous.name !== s.name) await this.adapter.deregister(previous);
      await this.adapter.register(s);
      this.log.info({ container: s.container.name, key: this.adapter.keyOf(s), value: serviceValue(s) }, 'registered');
    });
  }

  private deregister(s: Service, reason: string): void {
    this.registered.delete(s.id);
    this.run(s.container.id, async () => {
      try {
        await this.adapter.deregister(s);
      } catch (e) {
        // The store is away: retry with the refreshes, or the entry would linger until its TTL.
        if (!this.registered.has(s.id)) this.failedDeletes.set(s.id, s);
        throw e;
      }
      this.failedDeletes.delete(s.id);
      this.log.info({ container: s.container.name, key: this.adapter.keyOf(s), reason }, 'deregistered');
    });
  }

  private retryFailedDeletes(): void {
    for (const s of this.failedDeletes.values()) {
      this.failedDeletes.delete(s.id);
      if (!this.registered.has(s.id)) this.deregister(s, 'retry after a failed delete');
    }
  }

  /** Runs store work for one container after the work queued before it. */
  private run(containerId: string, work: () => Promise<void>): void {
    const prev = this.chains.get(containerId) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((e: unknown) => this.log.error({ containerId, err: (e as Error).message }, 'registry write failed; the next refresh or resync retries'));
    this.chains.set(containerId, next);
    void next.finally(() => {
      if (this.chains.get(containerId) === next) this.chains.delete(containerId);
    });
  }
}
