import type { MsgpackWriter } from '../../lib/msgpack-writer.ts';
import { EtcdError, EtcdErrorCode } from './errors.ts';
import { EventHistory } from './history.ts';
import { baseName, cleanKey, joinKey, segments } from './path.ts';
import { StoreCounters, type StatName } from './stats.ts';
import { KeyspaceSnapshotEncoder } from './snapshot-encoder.ts';
import { TreeNode } from './tree-node.ts';
import { TtlHeap } from './ttl-heap.ts';
import type { Action, GetOptions, KeyspaceApi, KvCommand, KvEvent, KvNodeView, StoreStats, WatchOptions, Watcher } from './types.ts';
import { WatcherHub } from './watcher-hub.ts';

/** Expiry times before 2000-01-01 mean "no TTL" (etcd's guard against zero times). */
const MIN_EXPIRE_MS = Date.UTC(2000, 0, 1);

type SetCommand = Extract<KvCommand, { op: 'set' }>;
type DeleteCommand = Extract<KvCommand, { op: 'delete' }>;

interface SerializedNode {
  p: string;
  c: number;
  m: number;
  e: number | null;
  v?: string;
  k?: SerializedNode[];
}

interface KeyspaceSnapshot {
  version: 1;
  index: number;
  root: SerializedNode;
  history: { capacity: number; events: KvEvent[] };
}

/**
 * The v2 keyspace (etcd 3.4's v2 store): a tree of directories and files with TTLs,
 * compare-and-swap, in-order keys, hidden keys, an event history and watchers. Pure: every
 * time it needs comes in the command (`nowMs`), so members applying the same entries agree.
 */
export class Keyspace implements KeyspaceApi {
  private root = TreeNode.dir('/', 0, null, null);
  private currentIndex = 0;
  private readonly ttl = new TtlHeap();
  private readonly counters = new StoreCounters();
  private readonly hub: WatcherHub;

  constructor(opts: { historySize?: number } = {}) {
    this.hub = new WatcherHub(new EventHistory(opts.historySize ?? 1000));
  }

  get index(): number {
    return this.currentIndex;
  }

  apply(cmd: KvCommand): KvEvent | KvEvent[] {
    switch (cmd.op) {
      case 'set':
        return this.applySet(cmd);
      case 'createInOrder':
        return this.counted('createSuccess', 'createFail', () =>
          this.notify(this.create(cmd.dir, cmd.isDir, cmd.value, true, false, this.expiry(cmd.ttlSeconds, cmd.nowMs), 'create')),
        );
      case 'delete':
        return this.applyDelete(cmd);
      case 'sync':
        return this.expireUntil(cmd.nowMs);
    }
  }

  get(key: string, opts: GetOptions): KvEvent {
    return this.counted('getsSuccess', 'getsFail', () => {
      const n = this.lookup(key);
      const view = n.view(true, opts.recursive, opts.sorted);
      return { action: 'get', node: view, etcdIndex: this.currentIndex };
    });
  }

  watch(key: string, opts: WatchOptions, onEvent: (ev: KvEvent) => void): Watcher {
    const since = opts.sinceIndex === 0 ? this.currentIndex + 1 : opts.sinceIndex;
    return this.hub.watch(cleanKey(key), opts.recursive, opts.stream, since, this.currentIndex, onEvent);
  }

  hasTtlNodes(): boolean {
    return this.ttl.size > 0;
  }

  nextExpiryMs(): number | null {
    return this.ttl.top()?.expireAtMs ?? null;
  }

  stats(): StoreStats {
    return this.counters.snapshot(this.hub.count);
  }

  // ---- writes --------------------------------------------------------------------------------

  /** PUT, mapped to etcd's Set / Create / Update / CompareAndSwap by the options given. */
  private applySet(cmd: SetCommand): KvEvent {
    const expireAt = this.expiry(cmd.ttlSeconds, cmd.nowMs);
    if (cmd.prevExist === true) {
      if (cmd.prevIndex === 0 && cmd.prevValue === '') return this.counted('updateSuccess', 'updateFail', () => this.update(cmd.key, cmd.value, expireAt, cmd.refresh));
      return this.counted('compareAndSwapSuccess', 'compareAndSwapFail', () => this.compareAndSwap(cmd, expireAt));
    }
    if (cmd.prevExist === false) {
      return this.counted('createSuccess', 'createFail', () => this.notify(this.create(cmd.key, cmd.dir, cmd.value, false, false, expireAt, 'create')));
    }
    if (cmd.prevIndex > 0 || cmd.prevValue !== '') return this.counted('compareAndSwapSuccess', 'compareAndSwapFail', () => this.compareAndSwap(cmd, expireAt));
    return this.counted('setsSuccess', 'setsFail', () => this.set(cmd.key, cmd.dir, cmd.value, expireAt, cmd.refresh));
  }

  private set(key: string, dir: boolean, value: string, expireAt: number | null, refresh: boolean): KvEvent {
    // create() finds the node it replaces and gives it as prevNode: one walk of the path.
    if (!refresh) return this.notify(this.create(key, dir, value, false, true, expireAt, 'set'));
    return this.silently(this.create(key, dir, this.lookup(key).value, false, true, expireAt, 'set'));
  }

  private update(key: string, value: string, expireAt: number | null, refresh: boolean): KvEvent {
    const path = this.writablePath(key);
    const n = this.lookup(path);
    if (n.isDir && value.length !== 0) throw this.error(EtcdErrorCode.NotFile, path);
    if (refresh) value = n.value;
    const next = this.currentIndex + 1;
    const prevNode = n.view(false, false, false);
    // A directory keeps its modifiedIndex on update (only its TTL changes), as in etcd.
    if (!n.isDir) {
      n.value = value;
      n.modifiedIndex = next;
    }
    this.setTtl(n, expireAt);
    const node: KvNodeView = { key: path, dir: n.isDir, expireAtMs: n.expireAtMs, modifiedIndex: next, createdIndex: n.createdIndex };
    if (!n.isDir) node.value = value;
    this.currentIndex = next;
    const e: KvEvent = { action: 'update', node, prevNode, etcdIndex: next };
    return refresh ? this.silently(e) : this.notify(e);
  }

  private compareAndSwap(cmd: SetCommand, expireAt: number | null): KvEvent {
    const path = this.writablePath(cmd.key);
    const n = this.lookup(path);
    if (n.isDir) throw this.error(EtcdErrorCode.NotFile, path);
    this.compare(n, cmd.prevValue, cmd.prevIndex);
    const value = cmd.refresh ? n.value : cmd.value;
    this.currentIndex++;
    const prevNode = n.view(false, false, false);
    n.value = value;
    n.modifiedIndex = this.currentIndex;
    this.setTtl(n, expireAt);
    const e: KvEvent = {
      action: 'compareAndSwap',
      node: { key: path, value, dir: false, expireAtMs: n.expireAtMs, modifiedIndex: this.currentIndex, createdIndex: n.createdIndex },
      prevNode,
      etcdIndex: this.currentIndex,
    };
    return cmd.refresh ? this.silently(e) : this.notify(e);
  }

  private applyDelete(cmd: DeleteCommand): KvEvent {
    if (cmd.prevIndex > 0 || cmd.prevValue !== '') {
      return this.counted('compareAndDeleteSuccess', 'compareAndDeleteFail', () => this.compareAndDelete(cmd.key, cmd.prevValue, cmd.prevIndex));
    }
    return this.counted('deleteSuccess', 'deleteFail', () => this.delete(cmd.key, cmd.dir || cmd.recursive, cmd.recursive));
  }

  private delete(key: string, dir: boolean, recursive: boolean): KvEvent {
    const path = this.writablePath(key);
    const n = this.lookup(path);
    const next = this.currentIndex + 1;
    const e: KvEvent = {
      action: 'delete',
      node: { key: path, dir: n.isDir, expireAtMs: null, modifiedIndex: next, createdIndex: n.createdIndex },
      prevNode: n.view(false, false, false),
      etcdIndex: next,
    };
    this.remove(n, dir, recursive, e);
    this.currentIndex = next;
    return this.notify(e);
  }

  private compareAndDelete(key: string, prevValue: string, prevIndex: number): KvEvent {
    const path = cleanKey(key);
    const n = this.lookup(path);
    if (n.isDir) throw this.error(EtcdErrorCode.NotFile, path);
    this.compare(n, prevValue, prevIndex);
    this.currentIndex++;
    const e: KvEvent = {
      action: 'compareAndDelete',
      node: { key: path, dir: false, expireAtMs: null, modifiedIndex: this.currentIndex, createdIndex: n.createdIndex },
      prevNode: n.view(false, false, false),
      etcdIndex: this.currentIndex,
    };
    this.remove(n, false, false, e);
    return this.notify(e);
  }

  /** Expires every node due at `nowMs`, one index and one event each. */
  private expireUntil(nowMs: number): KvEvent[] {
    const events: KvEvent[] = [];
    for (let n = this.ttl.top(); n && n.expireAtMs! <= nowMs; n = this.ttl.top()) {
      this.currentIndex++;
      const e: KvEvent = {
        action: 'expire',
        node: { key: n.path, dir: n.isDir, expireAtMs: null, modifiedIndex: this.currentIndex, createdIndex: n.createdIndex },
        prevNode: n.view(false, false, false),
        etcdIndex: this.currentIndex,
      };
      this.ttl.remove(n);
      this.remove(n, true, true, e);
      this.counters.inc('expireCount');
      events.push(this.notify(e));
    }
    return events;
  }

  // ---- the tree ------------------------------------------------------------------------------

  /**
   * Creates a file or directory at `key` (or, when `unique`, at `key/<20-digit index>`),
   * making missing parent directories. `replace` lets it replace a file (not a directory).
   */
  private create(key: string, dir: boolean, value: string, unique: boolean, replace: boolean, expireAt: number | null, action: Action): KvEvent {
    const current = this.currentIndex;
    const next = current + 1;
    const path = cleanKey(unique ? `${key}/${String(next).padStart(20, '0')}` : key);
    if (path === '/') throw new EtcdError(EtcdErrorCode.RootReadOnly, '/', current);
    const parent = this.makeParents(path);
    const name = baseName(path);
    const existing = parent.children!.get(name);
    let prevNode: KvNodeView | undefined;
    if (existing) {
      if (!replace) throw new EtcdError(EtcdErrorCode.NodeExist, path, current);
      if (existing.isDir) throw new EtcdError(EtcdErrorCode.NotFile, path, current);
      prevNode = existing.view(false, false, false);
      this.detach(existing);
    }
    const n = dir ? TreeNode.dir(path, next, parent, expireAt) : TreeNode.file(path, value, next, parent, expireAt);
    parent.children!.set(name, n);
    if (expireAt !== null) this.ttl.push(n);
    this.currentIndex = next;
    const node: KvNodeView = { key: path, dir, expireAtMs: expireAt, modifiedIndex: next, createdIndex: next };
    if (!dir) node.value = value;
    const e: KvEvent = { action, node, etcdIndex: next };
    if (prevNode) e.prevNode = prevNode;
    return e;
  }

  /** Walks to the parent directory of `path`, creating directories (without TTL) on the way. */
  private makeParents(path: string): TreeNode {
    let d = this.root;
    const segs = segments(path);
    for (let i = 0; i < segs.length - 1; i++) {
      const name = segs[i]!;
      const child = d.children!.get(name);
      if (child) {
        if (!child.isDir) throw new EtcdError(EtcdErrorCode.NotDir, child.path, this.currentIndex);
        d = child;
      } else {
        const made = TreeNode.dir(joinKey(d.path, name), this.currentIndex + 1, d, null);
        d.children!.set(name, made);
        d = made;
      }
    }
    return d;
  }

  /** The node at `key`: 100 when missing, 104 when a file stands where a directory should. */
  private lookup(key: string): TreeNode {
    return this.find(key, true)!;
  }

  /** The node at `key`, or null when missing (and not `mustExist`); 104 as lookup(). */
  private find(key: string, mustExist = false): TreeNode | null {
    const path = cleanKey(key);
    let n = this.root;
    for (const name of segments(path)) {
      if (!n.children) throw new EtcdError(EtcdErrorCode.NotDir, n.path, this.currentIndex);
      const child = n.children.get(name);
      if (!child) {
        if (mustExist) throw new EtcdError(EtcdErrorCode.KeyNotFound, joinKey(n.path, name), this.currentIndex);
        return null;
      }
      n = child;
    }
    return n;
  }

  private writablePath(key: string): string {
    const path = cleanKey(key);
    if (path === '/') throw new EtcdError(EtcdErrorCode.RootReadOnly, '/', this.currentIndex);
    return path;
  }

  /** Removes `n` (recursively when allowed), telling watchers on every removed path. */
  private remove(n: TreeNode, dir: boolean, recursive: boolean, e: KvEvent): void {
    if (n.isDir) {
      if (!dir) throw this.error(EtcdErrorCode.NotFile, n.path);
      if (n.children!.size > 0 && !recursive) throw this.error(EtcdErrorCode.DirNotEmpty, n.path);
    }
    // Watchers on paths inside a removed directory hear of it here; those on the removed key
    // itself and above it hear through notify(e), once.
    const visit = (x: TreeNode) => {
      if (x.children) for (const c of [...x.children.values()]) visit(c);
      if (x !== n) this.hub.notifyPath(e, x.path, true);
    };
    this.detach(n);
    visit(n);
  }

  private detach(n: TreeNode): void {
    if (n.parent?.children?.get(n.name) === n) n.parent.children.delete(n.name);
    if (n.expireAtMs !== null && !n.isDir) this.ttl.remove(n);
    if (n.isDir) {
      const drop = (x: TreeNode) => {
        if (x.expireAtMs !== null) this.ttl.remove(x);
        if (x.children) for (const c of x.children.values()) drop(c);
      };
      drop(n);
    }
  }

  private setTtl(n: TreeNode, expireAt: number | null): void {
    if (n.expireAtMs !== null) {
      n.expireAtMs = expireAt;
      if (expireAt === null) this.ttl.remove(n);
      else this.ttl.update(n);
    } else if (expireAt !== null) {
      n.expireAtMs = expireAt;
      this.ttl.push(n);
    }
  }

  private compare(n: TreeNode, prevValue: string, prevIndex: number): void {
    const indexOk = prevIndex === 0 || n.modifiedIndex === prevIndex;
    const valueOk = prevValue === '' || n.value === prevValue;
    if (indexOk && valueOk) return;
    const cause = !valueOk && !indexOk ? `[${prevValue} != ${n.value}] [${prevIndex} != ${n.modifiedIndex}]` : !valueOk ? `[${prevValue} != ${n.value}]` : `[${prevIndex} != ${n.modifiedIndex}]`;
    throw new EtcdError(EtcdErrorCode.TestFailed, cause, this.currentIndex);
  }

  private expiry(ttlSeconds: number | null, nowMs: number): number | null {
    if (ttlSeconds === null) return null;
    const at = nowMs + ttlSeconds * 1000;
    return at < MIN_EXPIRE_MS ? null : at;
  }

  private error(code: EtcdErrorCode, cause: string): EtcdError {
    return new EtcdError(code, cause, this.currentIndex);
  }

  private notify(e: KvEvent): KvEvent {
    this.hub.notify(e);
    return e;
  }

  private silently(e: KvEvent): KvEvent {
    e.refresh = true;
    this.hub.addSilently(e);
    return e;
  }

  private counted<T>(ok: StatName, fail: StatName, f: () => T): T {
    try {
      const r = f();
      this.counters.inc(ok);
      return r;
    } catch (e) {
      this.counters.inc(fail);
      throw e;
    }
  }

  // ---- snapshots -----------------------------------------------------------------------------

  snapshot(): KeyspaceSnapshot {
    const ser = (n: TreeNode): SerializedNode => {
      const s: SerializedNode = { p: n.path, c: n.createdIndex, m: n.modifiedIndex, e: n.expireAtMs };
      if (n.children) s.k = [...n.children.values()].map(ser);
      else s.v = n.value;
      return s;
    };
    return { version: 1, index: this.currentIndex, root: ser(this.root), history: this.hub.history.toJSON() };
  }

  /**
   * Writes what snapshot() returns as msgpack into `w`, a slice at a time through the returned
   * encoder's steps. Nothing may change the keyspace until it is done (a member holds its
   * applies meanwhile).
   */
  encodeSnapshot(w: MsgpackWriter): KeyspaceSnapshotEncoder {
    return new KeyspaceSnapshotEncoder(w, this.currentIndex, this.hub.history.toJSON(), this.root);
  }

  restore(snapshot: unknown): void {
    const snap = snapshot as KeyspaceSnapshot;
    if (!snap || snap.version !== 1 || !snap.root) throw new TypeError('not a keyspace snapshot (version 1)');
    this.ttl.clear();
    const build = (s: SerializedNode, parent: TreeNode | null): TreeNode => {
      const n = s.k ? TreeNode.dir(s.p, s.c, parent, s.e) : TreeNode.file(s.p, s.v ?? '', s.c, parent, s.e);
      n.modifiedIndex = s.m;
      if (s.k) for (const k of s.k) n.children!.set(baseName(k.p), build(k, n));
      if (n.expireAtMs !== null) this.ttl.push(n);
      return n;
    };
    this.root = build(snap.root, null);
    this.currentIndex = snap.index;
    this.hub.history = EventHistory.fromJSON(structuredClone(snap.history));
  }
}
