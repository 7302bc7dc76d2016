import { pack } from 'msgpackr';
import type { MsgpackWriter } from '../../lib/msgpack-writer.ts';
import type { KvEvent } from './types.ts';
import type { TreeNode } from './tree-node.ts';

/**
 * Writes a keyspace's snapshot as msgpack, in the shape Keyspace.snapshot() returns and restore()
 * reads ({ version, index, history, root }, each node {p, c, m, e} and v for a file or k for a
 * directory's children), a slice at a time, walking the live tree and history instead of a copy.
 * Nothing may change the keyspace until `step` reports it done.
 */
export class KeyspaceSnapshotEncoder {
  private nextEvent = 0;
  /** The children still to write of each directory on the way down, the innermost last. */
  private readonly pending: Iterator<TreeNode>[] = [];
  private rootWritten = false;

  constructor(
    private readonly w: MsgpackWriter,
    index: number,
    private readonly history: { capacity: number; events: KvEvent[] },
    private readonly root: TreeNode,
  ) {
    w.mapHeader(4);
    w.name('version');
    w.number(1);
    w.name('index');
    w.number(index);
    w.name('history');
    w.mapHeader(2);
    w.name('capacity');
    w.number(history.capacity);
    w.name('events');
    w.arrayHeader(history.events.length);
  }

  /** Writes until `items` more events and nodes or `bytes` more bytes are written; true once all are. */
  step(items: number, bytes = Infinity): boolean {
    const w = this.w;
    const until = w.length + bytes;
    const events = this.history.events;
    for (; items > 0 && w.length < until; items--) {
      if (this.nextEvent < events.length) {
        // Events vary in shape (prevNode, refresh, a dir's nodes): msgpackr writes each as it is.
        w.raw(pack(events[this.nextEvent++]));
        continue;
      }
      if (!this.rootWritten) {
        this.rootWritten = true;
        w.name('root');
        this.writeNode(this.root);
        continue;
      }
      const top = this.pending[this.pending.length - 1];
      if (!top) return true;
      const next = top.next();
      if (next.done) {
        this.pending.pop();
        items++;
        continue;
      }
      this.writeNode(next.value);
    }
    return this.rootWritten && this.pending.length === 0;
  }

  private writeNode(n: TreeNode): void {
    const w = this.w;
    w.mapHeader(5);
    w.name('p');
    w.string(n.path);
    w.name('c');
    w.number(n.createdIndex);
    w.name('m');
    w.number(n.modifiedIndex);
    w.name('e');
    if (n.expireAtMs === null) w.nil();
    else w.number(n.expireAtMs);
    if (n.children) {
      w.name('k');
      w.arrayHeader(n.children.size);
      this.pending.push(n.children.values());
    } else {
      w.name('v');
      w.string(n.value);
    }
  }
}
