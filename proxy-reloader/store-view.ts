/**
 * StoreView: one consistent, live copy of the watched directories, read only through a
 * KvBackend. For each directory: one recursive read at an index, then a recursive watch from
 * index + 1; on 401 (history cleared) a full re-read; on any other error the last known keys
 * stay in place (and `connected` turns false) while it retries with backoff.
 * For every directory that holds upstreams it also watches the hidden sibling `_meta` dir,
 * which a recursive read or watch of the parent never shows.
 */
import { EtcdError, EtcdErrorCode, type KvBackend } from '../store/client/kv-backend.ts';
import type { Logger } from '../lib/log.ts';
import { applyEvent, replacePrefix } from './key-view.ts';
import { leafDirs, normalizeDir } from './services.ts';

/** What consumers get on every change. `keys` is live: copy it if you keep it. */
export interface StoreSnapshot {
  readonly keys: ReadonlyMap<string, string>;
  /** The highest store index applied so far. */
  readonly index: number;
  readonly connected: boolean;
}

export interface StoreViewOptions {
  kv: KvBackend;
  prefixes: readonly string[];
  logger: Logger;
  /** Called after every applied change (and once when the first reads are done). */
  onChange(snapshot: StoreSnapshot): void;
  /** First retry delay after a store error; doubles up to 5 s. */
  retryMs?: number;
}

export class StoreView {
  readonly keys = new Map<string, string>();
  private index = 0;
  private connected = false;
  private lastError: string | undefined;
  private readonly abort = new AbortController();
  private readonly watched = new Set<string>();
  private readonly loops: Promise<void>[] = [];
  private pendingFirstReads = 0;
  private readyResolve!: () => void;
  /** Resolves when every directory known at start (and their _meta dirs) has been read once. */
  readonly ready: Promise<void> = new Promise((r) => (this.readyResolve = r));

  constructor(private readonly opts: StoreViewOptions) {}

  /** Starts reading and watching; returns at once (await `ready` for the first full view). */
  start(): void {
    for (const p of this.opts.prefixes) this.watchPrefix(normalizeDir(p));
  }

  /** State for /status and logs. */
  status(): { connected: boolean; index: number; lastError?: string; watching: string[] } {
    return { connected: this.connected, index: this.index, lastError: this.lastError, watching: [...this.watched].sort() };
  }

  snapshot(): StoreSnapshot {
    return { keys: this.keys, index: this.index, connected: this.connected };
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private watchPrefix(prefix: string): void {
    if (this.watched.has(prefix)) return;
    this.watched.add(prefix);
    this.pendingFirstReads++;
    this.loops.push(this.run(prefix));
  }

  private setConnected(ok: boolean, err?: string): void {
    if (ok === this.connected && err === undefined) return;
    this.connected = ok;
    if (err !== undefined) this.lastError = err;
    if (ok) this.opts.logger.info({ index: this.index }, 'store reachable');
    else this.opts.logger.warn({ error: err, index: this.index, keys: this.keys.size }, 'store unreachable, keeping last known upstreams');
    this.opts.onChange(this.snapshot());
  }

  /** Reads `prefix` recursively; a missing directory is empty at the error's index. */
  private async read(prefix: string): Promise<number> {
    try {
      const res = await this.opts.kv.get(prefix, { recursive: true, sorted: true });
      replacePrefix(this.keys, prefix, res.node);
      return res.etcdIndex;
    } catch (e) {
      if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.KeyNotFound) {
        replacePrefix(this.keys, prefix, undefined);
        return e.index;
      }
      throw e;
    }
  }

  private async run(prefix: string): Promise<void> {
    const signal = this.abort.signal;
    let first = true;
    let backoffMs = this.opts.retryMs ?? 200;
    while (!signal.aborted) {
      try {
        const at = await this.read(prefix);
        this.index = Math.max(this.index, at);
        this.setConnected(true);
        this.discoverMeta();
        if (first) {
          first = false;
          if (--this.pendingFirstReads === 0) this.readyResolve();
        }
        this.opts.onChange(this.snapshot());
        backoffMs = this.opts.retryMs ?? 200;
        for await (const ev of this.opts.kv.watch(prefix, { recursive: true, afterIndex: at, signal })) {
          const changed = applyEvent(this.keys, ev);
          if (ev.node) this.index = Math.max(this.index, ev.node.modifiedIndex);
          this.setConnected(true);
          if (changed) {
            this.discoverMeta();
            this.opts.onChange(this.snapshot());
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.EventIndexCleared) {
          this.opts.logger.info({ prefix, index: this.index }, 'watch index cleared, re-reading');
          continue;
        }
        this.setConnected(false, (e as Error).message);
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  private discoverMeta(): void {
    for (const dir of leafDirs(this.keys)) {
      const covered = [...this.watched].some((w) => dir === w || dir.startsWith(w + '/'));
      if (covered) this.watchPrefix(`${dir}/_meta`);
    }
  }
}
