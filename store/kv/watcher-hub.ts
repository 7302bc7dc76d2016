import { EventHistory } from './history.ts';
import { hiddenFromWatcher } from './path.ts';
import type { KvEvent, Watcher } from './types.ts';

interface HubWatcher extends Watcher {
  recursive: boolean;
  stream: boolean;
  sinceIndex: number;
  removed: boolean;
  onEvent(e: KvEvent): void;
}

/** Watchers by watched path, fed by every notified event (etcd's watcher hub). */
export class WatcherHub {
  private readonly byPath = new Map<string, Set<HubWatcher>>();
  count = 0;

  constructor(public history: EventHistory) {}

  /**
   * Registers a watcher on `key`. A matching event already in the history at or after
   * `sinceIndex` is delivered at once (the watcher then ends unless it streams).
   */
  watch(key: string, recursive: boolean, stream: boolean, sinceIndex: number, currentIndex: number, onEvent: (e: KvEvent) => void): Watcher {
    const past = this.history.scan(key, recursive, sinceIndex, currentIndex);
    const w: HubWatcher = {
      recursive,
      stream,
      sinceIndex,
      removed: false,
      onEvent,
      remove: () => {
        if (w.removed) return;
        w.removed = true;
        const set = this.byPath.get(key);
        if (set?.delete(w)) {
          this.count--;
          if (set.size === 0) this.byPath.delete(key);
        }
      },
    };
    if (past && !stream) {
      w.removed = true;
      onEvent({ ...past, etcdIndex: currentIndex });
      return w;
    }
    let set = this.byPath.get(key);
    if (!set) this.byPath.set(key, (set = new Set()));
    set.add(w);
    this.count++;
    // A streaming watcher gets every matching event still in the history (etcd 3.4 sends only
    // the first and then falls silent), then keeps listening after the last one.
    for (let e = past; e && !w.removed; e = this.history.scan(key, recursive, w.sinceIndex, currentIndex)) {
      w.sinceIndex = e.node.modifiedIndex + 1;
      onEvent({ ...e, etcdIndex: currentIndex });
    }
    return w;
  }

  /** Records an event that watchers must not see (a TTL refresh). */
  addSilently(e: KvEvent): void {
    this.history.add(e);
  }

  /** Records `e` and notifies watchers on every ancestor path and on the key itself. */
  notify(e: KvEvent): void {
    this.history.add(e);
    const key = e.node.key;
    this.notifyPath(e, '/', false);
    for (let i = 1; i < key.length; i++) if (key[i] === '/') this.notifyPath(e, key.slice(0, i), false);
    if (key.length > 1) this.notifyPath(e, key, false);
  }

  /**
   * Notifies the watchers on exactly `path`. `deleted` is set when `path` lies inside a removed
   * directory: watchers there hear of it even though the event's key is the directory's.
   */
  notifyPath(e: KvEvent, path: string, deleted: boolean): void {
    const set = this.byPath.get(path);
    if (!set) return;
    const original = e.node.key === path;
    if (!original && hiddenFromWatcher(path, e.node.key)) return;
    for (const w of [...set]) {
      if (w.removed) continue;
      if ((w.recursive || original || deleted) && e.node.modifiedIndex >= w.sinceIndex) {
        if (!w.stream) w.remove();
        w.onEvent(e);
      }
    }
  }
}
