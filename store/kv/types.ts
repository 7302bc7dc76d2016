/**
 * The v2 keyspace's data contract, shared by store/kv (which implements it), store/node (which
 * proposes commands through raft and applies them) and store/server (which speaks HTTP).
 *
 * Commands are plain JSON-able objects: they are what a raft entry carries. Time enters only
 * through commands (`nowMs` is the proposer's wall clock when the request arrived), so every
 * member applies the same command to the same result.
 */

export type Action =
  | 'get'
  | 'set'
  | 'create'
  | 'update'
  | 'delete'
  | 'compareAndSwap'
  | 'compareAndDelete'
  | 'expire';

/** etcd's node JSON, in etcd's field order. All fields omit-empty. */
export interface NodeJSON {
  key?: string;
  value?: string;
  dir?: true;
  /** RFC3339 with nanoseconds in UTC, trailing fractional zeros trimmed. */
  expiration?: string;
  ttl?: number;
  nodes?: NodeJSON[];
  modifiedIndex?: number;
  createdIndex?: number;
}

/**
 * An event as the keyspace records it. The node views are kept with absolute expiration
 * times (ms) so `ttl` can be computed when the response is written (etcd computes it then).
 */
export interface KvNodeView {
  key: string;
  value?: string;
  dir: boolean;
  /** Absolute expiry time in ms since the epoch, or null for none. */
  expireAtMs: number | null;
  nodes?: KvNodeView[];
  modifiedIndex: number;
  createdIndex: number;
}

export interface KvEvent {
  action: Action;
  node: KvNodeView;
  prevNode?: KvNodeView;
  /** The keyspace's index after this event (the X-Etcd-Index of a write). */
  etcdIndex: number;
  /** Refresh events take an index but are never delivered to watchers. */
  refresh?: boolean;
}

/**
 * A write, as proposed through raft. `nowMs` is the receiving member's wall clock; expiry is
 * `nowMs + ttlSeconds*1000` (etcd: the member that receives the request sets expiration).
 * `ttlSeconds: null` means "no TTL" (and removes one on update/CAS).
 */
export type KvCommand =
  | {
      op: 'set';
      key: string;
      value: string;
      dir: boolean;
      ttlSeconds: number | null;
      /** undefined = not given; true = update / CAS; false = create. */
      prevExist?: boolean;
      /** '' = not given. */
      prevValue: string;
      /** 0 = not given. */
      prevIndex: number;
      refresh: boolean;
      nowMs: number;
    }
  | { op: 'createInOrder'; dir: string; value: string; isDir: boolean; ttlSeconds: number | null; nowMs: number }
  | {
      op: 'delete';
      key: string;
      dir: boolean;
      recursive: boolean;
      prevValue: string;
      prevIndex: number;
      nowMs: number;
    }
  /** The leader's clock: expire every node whose expiry is at or before `nowMs`. */
  | { op: 'sync'; nowMs: number };

export interface GetOptions {
  recursive: boolean;
  sorted: boolean;
}

export interface WatchOptions {
  recursive: boolean;
  stream: boolean;
  /** 0 = from now on. */
  sinceIndex: number;
}

/** A registered watcher. `remove()` is idempotent. */
export interface Watcher {
  remove(): void;
}

/** The store-level counters of /v2/stats/store. */
export interface StoreStats {
  getsSuccess: number;
  getsFail: number;
  setsSuccess: number;
  setsFail: number;
  deleteSuccess: number;
  deleteFail: number;
  updateSuccess: number;
  updateFail: number;
  createSuccess: number;
  createFail: number;
  compareAndSwapSuccess: number;
  compareAndSwapFail: number;
  compareAndDeleteSuccess: number;
  compareAndDeleteFail: number;
  expireCount: number;
  watchers: number;
}

/**
 * The keyspace's surface. Pure: no clocks, timers or I/O. Errors are thrown as EtcdError
 * (store/kv/errors.ts) carrying the current index.
 */
export interface KeyspaceApi {
  /** The current etcd index (one global counter of successful mutations). */
  readonly index: number;
  /** Applies a committed command. Returns the event ('sync' returns the expire events). */
  apply(cmd: KvCommand): KvEvent | KvEvent[];
  /** A local read. `nowMs` is only used by callers to compute ttl; expiry is not checked here. */
  get(key: string, opts: GetOptions): KvEvent;
  /**
   * Registers a watcher. With `sinceIndex` inside the history, the first matching historic
   * event is delivered synchronously. Throws EtcdError 401 when `sinceIndex` is older than the
   * retained history. For non-stream watchers, the watcher removes itself after one event.
   */
  watch(key: string, opts: WatchOptions, onEvent: (ev: KvEvent) => void): Watcher;
  /** True when some node carries a TTL (the leader only proposes SYNC then). */
  hasTtlNodes(): boolean;
  /** The earliest expiry time in ms, or null. */
  nextExpiryMs(): number | null;
  /** A JSON-able copy of the whole state (tree, index, history), for raft snapshots. */
  snapshot(): unknown;
  /** Replaces the whole state with a snapshot's (watchers are kept; they see no events). */
  restore(snapshot: unknown): void;
  stats(): StoreStats;
}
