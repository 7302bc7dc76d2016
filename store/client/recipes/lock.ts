/**
 * Lock: a fair (FIFO) distributed mutex over a store directory, the etcd v2 recipe.
 *
 *   const lock = new Lock(kv, '/locks/counter', { ttlSeconds: 5 });
 *   const held = await lock.acquire();
 *   try { if (held.valid) await resource.write(data, held.token); } finally { await held.release(); }
 *
 * Each contender creates an in-order key (POST) with a TTL it keeps refreshing; the contender
 * whose key is first holds the lock; every other watches only its predecessor, so a release
 * wakes exactly one waiter. A holder that dies stops refreshing, its key expires and the next
 * one proceeds. The fencing token is the key's createdIndex: it grows with every acquisition,
 * so a resource that remembers the highest token it saw can refuse a stale holder.
 */
import { silentLogger, type Logger } from '../../../lib/log.ts';
import { EtcdError, EtcdErrorCode, type KvBackend, type KvNode } from '../kv-backend.ts';
import { LeaseLostError, RecipeAbortedError } from './errors.ts';
import { KeyLease } from './lease.ts';
import { anySignal, waitDeleted } from './wait-deleted.ts';

/** TTL, stored value, clock and logger of a lock. */
export interface LockOptions {
  /** Seconds a dead holder keeps the lock (default 10; etcd's TTLs are whole seconds). */
  ttlSeconds?: number;
  /** Stored in the contender's key, for humans (`berth ctl ls`); default `pid@host`. */
  value?: string;
  clockSkewMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** A held lock. */
export interface HeldLock {
  /** Fencing token: the createdIndex of this holder's key; larger for every later holder. */
  readonly token: number;
  readonly key: string;
  /** Aborts (reason: LeaseLostError) when the lock may have passed to someone else. */
  readonly signal: AbortSignal;
  /** True while the store still promises the lock is ours. Check right before acting. */
  readonly valid: boolean;
  /** Stops the keepalive and deletes the key (the next waiter proceeds). Idempotent. */
  release(): Promise<void>;
}

/** A fair distributed mutex over directory `dir` (see the file comment). */
export class Lock {
  private readonly ttlSeconds: number;
  private readonly logger: Logger;

  constructor(private readonly kv: KvBackend, readonly dir: string, private readonly opts: LockOptions = {}) {
    this.ttlSeconds = opts.ttlSeconds ?? 10;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) throw new RangeError(`ttlSeconds must be a whole number >= 1, got ${opts.ttlSeconds}`);
    this.logger = opts.logger ?? silentLogger;
  }

  /** Waits in line for the lock. Throws LeaseLostError if our key expires while waiting. */
  async acquire(opts: { signal?: AbortSignal } = {}): Promise<HeldLock> {
    const now = this.opts.now ?? Date.now;
    const sentAtMs = now();
    const created = await this.kv.createInOrder(this.dir, this.opts.value ?? `${process.pid}`, { ttl: this.ttlSeconds });
    const node = created.node!;
    const lease = new KeyLease({ kv: this.kv, key: node.key, ttlSeconds: this.ttlSeconds, createdIndex: node.createdIndex, modifiedIndex: node.modifiedIndex, sentAtMs, clockSkewMs: this.opts.clockSkewMs, now, logger: this.logger });
    try {
      await this.waitTurn(node.key, lease, opts.signal);
    } catch (e) {
      await lease.stop();
      await this.kv.delete(node.key).catch(() => undefined);
      throw e;
    }
    this.logger.debug({ key: node.key, token: node.createdIndex }, 'lock acquired');
    return this.held(node, lease);
  }

  /** Runs `fn` while holding the lock and releases it afterwards, whatever happens. */
  async withLock<T>(fn: (held: HeldLock) => Promise<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const held = await this.acquire(opts);
    try {
      return await fn(held);
    } finally {
      await held.release();
    }
  }

  private async waitTurn(key: string, lease: KeyLease, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (lease.signal.aborted) throw lease.signal.reason as LeaseLostError;
      if (signal?.aborted) throw new RecipeAbortedError(`waiting for lock ${this.dir}`);
      const line = await this.contenders();
      const at = line.nodes.findIndex((n) => n.key === key);
      if (at < 0) throw new LeaseLostError(key, 'our place in line expired while waiting');
      if (at === 0) return;
      const both = anySignal([signal, lease.signal]);
      try {
        await waitDeleted(this.kv, line.nodes[at - 1]!.key, line.index, both.signal);
      } finally {
        both.dispose();
      }
    }
  }

  /** The keys in line, oldest first, and the index the listing was taken at. */
  private async contenders(): Promise<{ nodes: KvNode[]; index: number }> {
    try {
      const r = await this.kv.get(this.dir, { sorted: true, quorum: true });
      const nodes = (r.node?.nodes ?? []).filter((n) => !n.dir).sort((a, b) => a.createdIndex - b.createdIndex);
      return { nodes, index: r.etcdIndex };
    } catch (e) {
      if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.KeyNotFound) return { nodes: [], index: e.index };
      throw e;
    }
  }

  private held(node: KvNode, lease: KeyLease): HeldLock {
    let released: Promise<void> | null = null;
    const kv = this.kv;
    return {
      token: node.createdIndex,
      key: node.key,
      signal: lease.signal,
      get valid() {
        return !released && lease.valid;
      },
      release() {
        released ??= (async () => {
          await lease.stop();
          // If this fails the key still expires after its TTL.
          await kv.delete(node.key).catch(() => undefined);
        })();
        return released;
      },
    };
  }
}
