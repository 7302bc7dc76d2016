import type { Message, NodeId } from './types.ts';

interface PendingRead {
  index: number;
  req: Message;
  acks: Set<NodeId>;
}

const key = (ctx: Uint8Array) => Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('base64');

/**
 * ReadIndex requests waiting for a heartbeat round to confirm the leader still leads: each is
 * released (with all older ones) once a quorum acknowledged its heartbeat context.
 */
export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>();
  private readonly queue: string[] = [];

  add(index: number, req: Message): void {
    const k = key(req.entries[0]!.data);
    if (this.pending.has(k)) return;
    this.pending.set(k, { index, req, acks: new Set() });
    this.queue.push(k);
  }

  /** Records an ack; returns how many distinct members acknowledged this context. */
  recvAck(from: NodeId, ctx: Uint8Array): Set<NodeId> | null {
    const p = this.pending.get(key(ctx));
    if (!p) return null;
    p.acks.add(from);
    return p.acks;
  }

  /** Releases the request with this context and all queued before it. */
  advance(ctx: Uint8Array): PendingRead[] {
    const k = key(ctx);
    const at = this.queue.indexOf(k);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1).map((q) => this.pending.get(q)!);
    for (const q of released) this.pending.delete(key(q.req.entries[0]!.data));
    return released;
  }

  lastPendingContext(): Uint8Array | undefined {
    const k = this.queue.at(-1);
    return k === undefined ? undefined : this.pending.get(k)!.req.entries[0]!.data;
  }

  clear(): void {
    this.pending.clear();
    this.queue.length = 0;
  }
}
