/**
 * MemoryKvBackend: the v2 semantics in-process, on the same pure keyspace berth runs, for unit
 * tests of the companions. TTLs expire on a 100 ms timer (unref'd), as a leader's SYNC would.
 */
import { EtcdError, EtcdErrorCode } from '../kv/errors.ts';
import { Keyspace } from '../kv/keyspace.ts';
import { eventJSON } from '../kv/node-json.ts';
import type { KvCommand, KvEvent } from '../kv/types.ts';
import type { DeleteOpts, GetOpts, KvBackend, KvResult, SetOpts, WatchOpts } from './kv-backend.ts';
import { toKvResult } from './node-conversion.ts';

export class MemoryKvBackend implements KvBackend {
  readonly keyspace: Keyspace;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(opts: { historySize?: number; now?: () => number } = {}) {
    this.keyspace = new Keyspace({ historySize: opts.historySize });
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.expire(), 100);
    this.timer.unref();
  }

  private readonly now: () => number;

  /** Applies due expirations now (tests with a fake clock call it directly). */
  expire(): void {
    this.keyspace.apply({ op: 'sync', nowMs: this.now() });
  }

  private result(ev: KvEvent): KvResult {
    return toKvResult(eventJSON(ev, this.now()) as Parameters<typeof toKvResult>[0], ev.etcdIndex);
  }

  private apply(cmd: KvCommand): KvResult {
    if (this.closed) throw new Error('MemoryKvBackend is closed');
    const ev = this.keyspace.apply(cmd);
    return this.result(Array.isArray(ev) ? ev[0]! : ev);
  }

  async get(key: string, opts: GetOpts = {}): Promise<KvResult> {
    return this.result(this.keyspace.get(key, { recursive: !!opts.recursive, sorted: !!opts.sorted }));
  }

  async set(key: string, value: string, opts: SetOpts = {}): Promise<KvResult> {
    if (opts.refresh && (opts.ttl === undefined || opts.ttl === null)) throw new EtcdError(EtcdErrorCode.RefreshTTLRequired, 'No TTL value set', 0);
    if (opts.prevValue === '') throw new EtcdError(EtcdErrorCode.PrevValueRequired, '"prevValue" cannot be empty', 0);
    return this.apply({
      op: 'set',
      key,
      value: opts.refresh || opts.dir ? '' : value,
      dir: !!opts.dir,
      ttlSeconds: opts.ttl ?? null,
      prevExist: opts.prevExist,
      prevValue: opts.prevValue ?? '',
      prevIndex: opts.prevIndex ?? 0,
      refresh: !!opts.refresh,
      nowMs: this.now(),
    });
  }

  async createInOrder(dir: string, value: string, opts: { ttl?: number | null; dir?: boolean } = {}): Promise<KvResult> {
    return this.apply({ op: 'createInOrder', dir, value, isDir: !!opts.dir, ttlSeconds: opts.ttl ?? null, nowMs: this.now() });
  }

  async delete(key: string, opts: DeleteOpts = {}): Promise<KvResult> {
    return this.apply({ op: 'delete', key, dir: !!opts.dir, recursive: !!opts.recursive, prevValue: opts.prevValue ?? '', prevIndex: opts.prevIndex ?? 0, nowMs: this.now() });
  }

  async *watch(key: string, opts: WatchOpts = {}): AsyncIterable<KvResult> {
    const queue: KvResult[] = [];
    let wake: (() => void) | null = null;
    const since = opts.afterIndex !== undefined ? opts.afterIndex + 1 : 0;
    const watcher = this.keyspace.watch(key, { recursive: !!opts.recursive, stream: true, sinceIndex: since }, (ev) => {
      queue.push(this.result(ev));
      wake?.();
    });
    const onAbort = () => wake?.();
    opts.signal?.addEventListener('abort', onAbort);
    try {
      while (!opts.signal?.aborted && !this.closed) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      watcher.remove();
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
  }
}
