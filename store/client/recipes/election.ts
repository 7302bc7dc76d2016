/**
 * Election: one leader among many candidates, over a single TTL key (the etcd v2 recipe).
 *
 *   const election = new Election(kv, '/election/workers', { ttlSeconds: 3 });
 *   const office = await election.campaign('worker-1');
 *   office.signal.addEventListener('abort', stopWork);      // lost: stop at once
 *   while (office.valid) await resource.act(office.token);  // the token fences stale leaders
 *   await office.resign();
 *
 * A candidate wins by creating the key (prevExist=false) and keeps it with TTL refreshes; the
 * others watch the key and try again when it is deleted or expires. The fencing token is the
 * key's createdIndex, larger for every new term. A leader whose refreshes fail is told through
 * `signal` no later than the store could give the office away (see KeyLease).
 */
import { silentLogger, type Logger } from '../../../lib/log.ts';
import { EtcdError, EtcdErrorCode, type KvBackend, type KvResult } from '../kv-backend.ts';
import { RecipeAbortedError } from './errors.ts';
import { KeyLease } from './lease.ts';
import { waitDeleted } from './wait-deleted.ts';

/** TTL, clock and logger of an election. */
export interface ElectionOptions {
  /** Seconds before a dead leader's office passes on (default 10). */
  ttlSeconds?: number;
  clockSkewMs?: number;
  now?: () => number;
  logger?: Logger;
}

/** Who holds the office: the candidate's value and the term's fencing token. */
export interface LeaderInfo {
  value: string;
  token: number;
}

/** A won term of office. */
export interface Leadership extends LeaderInfo {
  /** Aborts (reason: LeaseLostError) when the office may have passed to another candidate. */
  readonly signal: AbortSignal;
  /** True while the store still promises the office is ours. Check right before acting. */
  readonly valid: boolean;
  readonly validUntilMs: number;
  /** Gives the office up at once (the next candidate need not wait for the TTL). Idempotent. */
  resign(): Promise<void>;
}

const GONE = new Set(['delete', 'expire', 'compareAndDelete']);

/** Campaign for, hold, resign and observe one office (see the file comment). */
export class Election {
  private readonly ttlSeconds: number;
  private readonly logger: Logger;

  constructor(private readonly kv: KvBackend, readonly key: string, private readonly opts: ElectionOptions = {}) {
    this.ttlSeconds = opts.ttlSeconds ?? 10;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) throw new RangeError(`ttlSeconds must be a whole number >= 1, got ${opts.ttlSeconds}`);
    this.logger = opts.logger ?? silentLogger;
  }

  /** Waits until `value` holds the office. */
  async campaign(value: string, opts: { signal?: AbortSignal } = {}): Promise<Leadership> {
    const now = this.opts.now ?? Date.now;
    for (;;) {
      if (opts.signal?.aborted) throw new RecipeAbortedError(`campaign for ${this.key}`);
      const sentAtMs = now();
      let won: KvResult;
      try {
        won = await this.kv.set(this.key, value, { prevExist: false, ttl: this.ttlSeconds });
      } catch (e) {
        if (!(e instanceof EtcdError && e.errorCode === EtcdErrorCode.NodeExist)) throw e;
        await this.waitVacant(opts.signal ?? new AbortController().signal);
        continue;
      }
      const node = won.node!;
      this.logger.info({ key: this.key, value, token: node.createdIndex }, 'won the election');
      const lease = new KeyLease({ kv: this.kv, key: this.key, ttlSeconds: this.ttlSeconds, createdIndex: node.createdIndex, modifiedIndex: node.modifiedIndex, sentAtMs, clockSkewMs: this.opts.clockSkewMs, now, logger: this.logger });
      return this.leadership(value, node.createdIndex, lease);
    }
  }

  /** The current leader, or null when the office is vacant (a linearizable read). */
  async leader(): Promise<LeaderInfo | null> {
    return (await this.read()).leader;
  }

  /**
   * The leader now, then every change of leader (null while vacant), until `signal` aborts.
   * Refreshes of the same term are not reported.
   */
  async *observe(opts: { signal?: AbortSignal } = {}): AsyncIterable<LeaderInfo | null> {
    let { leader, index } = await this.read();
    yield leader;
    while (!opts.signal?.aborted) {
      try {
        for await (const ev of this.kv.watch(this.key, { afterIndex: index, signal: opts.signal })) {
          index = ev.node?.modifiedIndex ?? index;
          const next = GONE.has(ev.action) ? null : { value: ev.node?.value ?? '', token: ev.node?.createdIndex ?? 0 };
          if (next?.token === leader?.token) continue;
          leader = next;
          yield leader;
        }
      } catch (e) {
        if (!(e instanceof EtcdError && e.errorCode === EtcdErrorCode.EventIndexCleared)) throw e;
        const now = await this.read();
        index = now.index;
        if (now.leader?.token !== leader?.token) yield (leader = now.leader);
      }
    }
  }

  private async read(): Promise<{ leader: LeaderInfo | null; index: number }> {
    try {
      const r = await this.kv.get(this.key, { quorum: true });
      return { leader: { value: r.node?.value ?? '', token: r.node?.createdIndex ?? 0 }, index: r.etcdIndex };
    } catch (e) {
      if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.KeyNotFound) return { leader: null, index: e.index };
      throw e;
    }
  }

  /** Returns once the office is (or just was) vacant. */
  private async waitVacant(signal: AbortSignal): Promise<void> {
    const { leader, index } = await this.read();
    if (!leader) return;
    await waitDeleted(this.kv, this.key, index, signal);
  }

  private leadership(value: string, token: number, lease: KeyLease): Leadership {
    let resigned: Promise<void> | null = null;
    const kv = this.kv;
    const key = this.key;
    return {
      value,
      token,
      signal: lease.signal,
      get valid() {
        return !resigned && lease.valid;
      },
      get validUntilMs() {
        return lease.validUntilMs;
      },
      resign() {
        resigned ??= (async () => {
          await lease.stop();
          // Only our own term's key: a successor's key has another modifiedIndex.
          await kv.delete(key, { prevIndex: lease.currentIndex }).catch(() => undefined);
        })();
        return resigned;
      },
    };
  }
}
