/**
 * KvBackend: the one interface the companions (registrator, proxy-reloader, examples, ctl)
 * use to talk to a store. The HTTP v2 implementation serves berth and real etcd alike;
 * MemoryKvBackend is its in-process twin for unit tests; one contract suite runs against all.
 */
import type { Action } from '../kv/types.ts';
export { EtcdError, EtcdErrorCode } from '../kv/errors.ts';

/** A node as the v2 API returns it. */
export interface KvNode {
  key: string;
  value?: string;
  dir: boolean;
  ttl?: number;
  expiration?: string;
  nodes?: KvNode[];
  modifiedIndex: number;
  createdIndex: number;
}

/** One v2 API answer: the event plus the index headers. */
export interface KvResult {
  action: Action;
  node?: KvNode;
  prevNode?: KvNode;
  /** X-Etcd-Index: for a watch, the index when the watch started. */
  etcdIndex: number;
  raftIndex?: number;
  raftTerm?: number;
}

export interface GetOpts {
  recursive?: boolean;
  sorted?: boolean;
  /** Linearizable read (goes through raft). */
  quorum?: boolean;
}

export interface SetOpts {
  /** Seconds; null or undefined = no TTL (removes one on update / CAS). */
  ttl?: number | null;
  dir?: boolean;
  prevExist?: boolean;
  prevValue?: string;
  prevIndex?: number;
  /** Refresh the TTL without notifying watchers (needs ttl, no value). */
  refresh?: boolean;
  noValueOnSuccess?: boolean;
}

export interface DeleteOpts {
  dir?: boolean;
  recursive?: boolean;
  prevValue?: string;
  prevIndex?: number;
}

export interface WatchOpts {
  recursive?: boolean;
  /** Deliver events with modifiedIndex > afterIndex; undefined = from now on. */
  afterIndex?: number;
  /** Ends the iteration (the iterator returns) when aborted. */
  signal?: AbortSignal;
}

export interface KvBackend {
  get(key: string, opts?: GetOpts): Promise<KvResult>;
  /** PUT: set / create / update / compareAndSwap, by etcd's rules for the options given. */
  set(key: string, value: string, opts?: SetOpts): Promise<KvResult>;
  /** POST: an in-order key inside directory `dir`. */
  createInOrder(dir: string, value: string, opts?: { ttl?: number | null; dir?: boolean }): Promise<KvResult>;
  delete(key: string, opts?: DeleteOpts): Promise<KvResult>;
  /**
   * Events under `key`, in index order, resuming from the last seen index across reconnects
   * and endpoint failover. Throws EtcdError with errorCode 401 (EventIndexCleared) when the
   * history no longer holds `afterIndex + 1`: the caller re-reads and watches again.
   */
  watch(key: string, opts?: WatchOpts): AsyncIterable<KvResult>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
