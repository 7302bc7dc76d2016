/**
 * Config: a store directory loaded into an object and kept current, with typed change events.
 *
 *   const cfg = await Config.load(kv, '/app/config', { parse: (t) => parseSettings(t) });
 *   cfg.current                       // the parsed object (last valid one)
 *   cfg.onChange((c) => c.key === 'db/host' && reconnect(c.config));
 *   cfg.onInvalid((err) => log.warn(err));   // a bad value: keeps the last good config
 *
 * The watch resumes from the last applied index across reconnects and failover, retries
 * forever on network errors (with back-off), and reloads the whole directory (emitting the
 * difference) when the store's event history no longer reaches back far enough.
 */
import { silentLogger, type Logger } from '../../../lib/log.ts';
import { EtcdError, EtcdErrorCode, type KvBackend, type KvResult } from '../kv-backend.ts';
import { cloneTree, ensureDir, leaves, relativePath, remove, setLeaf, treeOf, type ConfigTree } from './config-tree.ts';

export type { ConfigTree } from './config-tree.ts';

/** One changed key (a leaf), with the configuration after the change. */
export interface ConfigChange<T> {
  action: 'set' | 'delete';
  /** Path below the directory, slash-separated: `db/host`. */
  key: string;
  value?: string;
  previous?: string;
  /** The store index of the change. */
  index: number;
  config: T;
}

/** How to parse, log and retry. */
export interface ConfigOptions<T> {
  /** Turns the raw tree into the application's settings; throw to reject a bad configuration. */
  parse?: (tree: ConfigTree) => T;
  logger?: Logger;
  /** Back-off between failed watch attempts (default 500 ms). */
  retryMs?: number;
}

const REMOVED = new Set(['delete', 'expire', 'compareAndDelete']);

/** A store directory kept current as a parsed object (see the file comment). */
export class Config<T = ConfigTree> {
  private tree: ConfigTree;
  private parsed: T;
  private appliedIndex: number;
  private readonly changeListeners = new Set<(c: ConfigChange<T>) => void>();
  private readonly invalidListeners = new Set<(e: Error) => void>();
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private readonly parse: (tree: ConfigTree) => T;
  private readonly logger: Logger;

  private constructor(private readonly kv: KvBackend, readonly dir: string, first: KvResult | null, index: number, opts: ConfigOptions<T>) {
    this.parse = opts.parse ?? ((t) => t as unknown as T);
    this.logger = opts.logger ?? silentLogger;
    this.tree = treeOf(dir, first?.node);
    this.parsed = this.parse(cloneTree(this.tree));
    this.appliedIndex = index;
    this.loop = this.follow(opts.retryMs ?? 500);
  }

  /** Reads the directory (linearizably), parses it (a parse error rejects) and starts following it. */
  static async load<T = ConfigTree>(kv: KvBackend, dir: string, opts: ConfigOptions<T> = {}): Promise<Config<T>> {
    const { result, index } = await Config.read(kv, dir);
    return new Config<T>(kv, dir, result, index, opts);
  }

  private static async read(kv: KvBackend, dir: string): Promise<{ result: KvResult | null; index: number }> {
    try {
      const result = await kv.get(dir, { recursive: true, quorum: true });
      return { result, index: result.etcdIndex };
    } catch (e) {
      if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.KeyNotFound) return { result: null, index: e.index };
      throw e;
    }
  }

  /** The last configuration that parsed. */
  get current(): T {
    return this.parsed;
  }

  /** The raw tree as stored now (a copy). */
  get raw(): ConfigTree {
    return cloneTree(this.tree);
  }

  /** The store index the configuration reflects. */
  get index(): number {
    return this.appliedIndex;
  }

  /** Calls `fn` after every changed key; returns the unsubscribe function. */
  onChange(fn: (c: ConfigChange<T>) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  /** Calls `fn` when the stored configuration does not parse (`current` keeps the last good one). */
  onInvalid(fn: (e: Error) => void): () => void {
    this.invalidListeners.add(fn);
    return () => this.invalidListeners.delete(fn);
  }

  /** Resolves once the configuration reflects store index `index` or later. */
  async waitForIndex(index: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.appliedIndex < index) {
      if (Date.now() > deadline) throw new Error(`config ${this.dir} did not reach index ${index} within ${timeoutMs} ms (at ${this.appliedIndex})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async follow(retryMs: number): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        for await (const ev of this.kv.watch(this.dir, { recursive: true, afterIndex: this.appliedIndex, signal })) this.apply(ev);
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.EventIndexCleared) await this.reload().catch((err: Error) => this.logger.warn({ dir: this.dir, err: err.message }, 'config reload failed'));
        else this.logger.warn({ dir: this.dir, err: (e as Error).message }, 'config watch failed; retrying from the last index');
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  }

  private apply(ev: KvResult): void {
    const node = ev.node;
    if (!node) return;
    this.appliedIndex = Math.max(this.appliedIndex, node.modifiedIndex);
    const path = relativePath(this.dir, node.key);
    if (!path) return;
    if (REMOVED.has(ev.action)) {
      const gone = path.length === 0 ? leaves(this.tree) : remove(this.tree, path);
      if (path.length === 0) this.tree = {};
      for (const [key, previous] of gone) this.emit({ action: 'delete', key, previous, index: node.modifiedIndex });
    } else if (node.dir) {
      ensureDir(this.tree, path);
    } else if (path.length > 0) {
      const previous = setLeaf(this.tree, path, node.value ?? '');
      if (previous !== node.value) this.emit({ action: 'set', key: path.join('/'), value: node.value ?? '', previous, index: node.modifiedIndex });
    }
  }

  /** History was cleared past our index: read everything again and emit the difference. */
  private async reload(): Promise<void> {
    const { result, index } = await Config.read(this.kv, this.dir);
    const before = new Map(leaves(this.tree));
    const after = treeOf(this.dir, result?.node);
    this.tree = after;
    this.appliedIndex = index;
    const now = new Map(leaves(after));
    for (const [key, previous] of before) if (!now.has(key)) this.emit({ action: 'delete', key, previous, index });
    for (const [key, value] of now) if (before.get(key) !== value) this.emit({ action: 'set', key, value, previous: before.get(key), index });
  }

  private emit(c: Omit<ConfigChange<T>, 'config'>): void {
    try {
      this.parsed = this.parse(cloneTree(this.tree));
    } catch (e) {
      for (const fn of this.invalidListeners) fn(e as Error);
      return;
    }
    for (const fn of this.changeListeners) fn({ ...c, config: this.parsed });
  }
}
