/**
 * Template mode: a StoreView drives debounced renders of every template group, through the
 * mass-removal guard. Passes are serialized; changes during a pass cause one more pass.
 */
import type Handlebars from 'handlebars';
import type { Logger } from '../lib/log.ts';
import type { KvBackend } from '../store/client/kv-backend.ts';
import { systemClock, type Clock } from './clock.ts';
import { Debouncer } from './debounce.ts';
import type { WaitSpec } from './duration.ts';
import { guardedKeys, RemovalGuard } from './removal-guard.ts';
import { TemplateResource, type ResourceSpec } from './resource.ts';
import { servicesUnder } from './services.ts';
import { StoreView } from './store-view.ts';
import { TemplateGroup, type GroupOutcome } from './template-group.ts';
import { createTemplateEngine } from './template-helpers.ts';

export interface TemplateModeOptions {
  kv: KvBackend;
  prefixes: string[];
  resources: ResourceSpec[];
  wait: WaitSpec;
  maxRemovalPct: number;
  removalGraceMs: number;
  dryRun: boolean;
  logger: Logger;
  clock?: Clock;
  /** Called after every pass with each group's outcome (tests, --once). */
  onPass?: (outcomes: Map<string, GroupOutcome>) => void;
}

/** Builds the groups from resource specs (one Handlebars environment for all). */
export async function buildGroups(specs: ResourceSpec[], logger: Logger, hb: typeof Handlebars = createTemplateEngine()): Promise<TemplateGroup[]> {
  const byKey = new Map<string, TemplateResource[]>();
  for (const spec of specs) {
    const r = await TemplateResource.load(hb, spec);
    byKey.set(r.groupKey, [...(byKey.get(r.groupKey) ?? []), r]);
  }
  return [...byKey.entries()].map(([k, rs]) => new TemplateGroup(k, rs, logger));
}

export class TemplateMode {
  private groups: TemplateGroup[] = [];
  private readonly view: StoreView;
  private readonly debouncer: Debouncer;
  private readonly guard: RemovalGuard;
  private readonly clock: Clock;
  private running: Promise<void> | null = null;
  private again = false;
  private recheckTimer: unknown = null;
  private started = false;
  /** Number of passes run (each renders every group once). */
  passes = 0;

  constructor(private readonly opts: TemplateModeOptions) {
    this.clock = opts.clock ?? systemClock;
    this.guard = new RemovalGuard(opts.maxRemovalPct, opts.removalGraceMs);
    this.debouncer = new Debouncer(opts.wait, this.clock, () => void this.pass());
    this.view = new StoreView({ kv: opts.kv, prefixes: opts.prefixes, logger: opts.logger, onChange: () => this.started && this.debouncer.poke() });
  }

  /** Loads the templates, reads the store, runs the first pass. */
  async start(): Promise<void> {
    this.groups = await buildGroups(this.opts.resources, this.opts.logger);
    this.view.start();
    await this.view.ready;
    this.started = true;
    await this.pass();
  }

  /** SIGHUP: new resources (from a re-read config file), then a full pass. */
  async reloadResources(specs: ResourceSpec[]): Promise<void> {
    this.groups = await buildGroups(specs, this.opts.logger);
    this.opts.logger.info({ templates: specs.length }, 'config re-read');
    await this.pass();
  }

  /** Runs one pass now (or one more after the current one). Resolves when no pass is pending. */
  async pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.passOnce();
      } while (this.again);
    })();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }

  private async passOnce(): Promise<void> {
    this.passes++;
    const keys = this.view.snapshot().keys;
    this.opts.logger.info({ pass: this.passes, index: this.view.status().index }, 'render pass');
    const services = new Map(servicesUnder(keys, '/').map((s) => [s.dir, s.upstreams]));
    const decision = this.guard.decide(services, this.clock.now());
    if (decision.held.length > 0) {
      this.opts.logger.warn({ services: decision.held, until: decision.recheckAt }, 'mass removal held back for the grace period');
      if (this.recheckTimer !== null) this.clock.clearTimeout(this.recheckTimer);
      this.recheckTimer = this.clock.setTimeout(() => void this.pass(), Math.max(0, decision.recheckAt! - this.clock.now()));
    }
    const view = guardedKeys(new Map(keys), decision);
    const outcomes = new Map<string, GroupOutcome>();
    for (const g of this.groups) {
      try {
        outcomes.set(g.name, await g.apply(view, this.opts.dryRun));
      } catch (e) {
        // File-system trouble (a full disk, a removed directory): log it, try again next change.
        this.opts.logger.error({ group: g.name, error: (e as Error).message }, 'could not write the rendered files');
        outcomes.set(g.name, { kind: 'render-failed', error: (e as Error).message });
      }
    }
    this.opts.onPass?.(outcomes);
  }

  groupStats(): { name: string; stats: TemplateGroup['stats'] }[] {
    return this.groups.map((g) => ({ name: g.name, stats: { ...g.stats } }));
  }

  async stop(): Promise<void> {
    this.debouncer.cancel();
    if (this.recheckTimer !== null) this.clock.clearTimeout(this.recheckTimer);
    await this.view.stop();
    await this.running;
  }
}
