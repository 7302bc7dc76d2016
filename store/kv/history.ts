import { EtcdError, EtcdErrorCode } from './errors.ts';
import type { KvEvent } from './types.ts';

/**
 * The last `capacity` events, one per index (every mutation, refreshes included, takes exactly
 * one index), so an index maps straight to its slot.
 */
export class EventHistory {
  private readonly events: KvEvent[] = [];
  /** Index of the oldest retained event (0 while empty). */
  startIndex = 0;
  lastIndex = 0;

  constructor(readonly capacity = 1000) {}

  add(e: KvEvent): void {
    this.events.push(e);
    if (this.events.length > this.capacity) this.events.shift();
    this.lastIndex = e.node.modifiedIndex;
    this.startIndex = this.events[0]!.node.modifiedIndex;
  }

  /**
   * The first event at or after `index` that a watcher on `key` would see, or null if none yet.
   * Throws 401 when `index` is older than what is retained.
   */
  scan(key: string, recursive: boolean, index: number, currentIndex: number): KvEvent | null {
    if (index < this.startIndex) {
      throw new EtcdError(EtcdErrorCode.EventIndexCleared, `the requested history has been cleared [${this.startIndex}/${index}]`, currentIndex);
    }
    if (index > this.lastIndex || this.events.length === 0) return null;
    const prefix = key.endsWith('/') ? key : key + '/';
    for (let i = Math.max(0, index - this.startIndex); i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.refresh) continue;
      let ok = e.node.key === key || (recursive && e.node.key.startsWith(prefix));
      if ((e.action === 'delete' || e.action === 'expire') && e.prevNode?.dir) ok ||= key.startsWith(e.prevNode.key);
      if (ok) return e;
    }
    return null;
  }

  /** A copy of the list; the events themselves are shared, as none changes once recorded. */
  toJSON(): { capacity: number; events: KvEvent[] } {
    return { capacity: this.capacity, events: this.events.slice() };
  }

  static fromJSON(data: { capacity: number; events: KvEvent[] }): EventHistory {
    const h = new EventHistory(data.capacity);
    for (const e of data.events) h.add(e);
    return h;
  }
}
