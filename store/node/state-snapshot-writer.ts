import { pack } from 'msgpackr';
import { assert } from '../../lib/assert.ts';
import { MsgpackWriter } from '../../lib/msgpack-writer.ts';
import type { Keyspace } from '../kv/keyspace.ts';
import type { KeyspaceSnapshotEncoder } from '../kv/snapshot-encoder.ts';

/** Events and nodes, or bytes, written between two looks at the clock. */
const ITEMS_PER_CHECK = 1024;
const BYTES_PER_CHECK = 1 << 20;
const CHUNK_BYTES = 1 << 20;

/**
 * A member's state as one snapshot's data, the msgpack of `{ members, auth, kv }` (what
 * StoreNode.restoreState unpacks), written a slice at a time so the member's event loop keeps
 * running between slices: packing 1,000,000 keys at once held it ~1-2 s, past an election
 * timeout. It is written in chunks, then copied into one buffer of its exact size, that too a
 * slice at a time. The state must not change until `step` reports it done; the member holds its
 * applies meanwhile (RawNode.holdApplies).
 */
export class StateSnapshotWriter {
  private readonly w = new MsgpackWriter(CHUNK_BYTES);
  private readonly kv: KeyspaceSnapshotEncoder;
  /** Set once everything is written: the chunks, copied one by one into `data`. */
  private joining: { chunks: Buffer[]; next: number; at: number; data: Buffer } | null = null;

  constructor(state: { keyspace: Keyspace; members: unknown; auth: unknown }) {
    this.w.mapHeader(3);
    this.w.name('members');
    this.w.raw(pack(state.members));
    this.w.name('auth');
    this.w.raw(pack(state.auth));
    this.w.name('kv');
    this.kv = state.keyspace.encodeSnapshot(this.w);
  }

  /** Works for about `ms` milliseconds; true once the snapshot's data is ready. */
  step(ms: number): boolean {
    const until = performance.now() + ms;
    if (!this.joining) {
      while (!this.kv.step(ITEMS_PER_CHECK, BYTES_PER_CHECK)) if (performance.now() >= until) return false;
      this.joining = { chunks: this.w.chunks(), next: 0, at: 0, data: Buffer.allocUnsafe(this.w.length) };
    }
    const j = this.joining;
    while (j.next < j.chunks.length) {
      const chunk = j.chunks[j.next++]!;
      j.data.set(chunk, j.at);
      j.at += chunk.length;
      if (performance.now() >= until && j.next < j.chunks.length) return false;
    }
    return true;
  }

  /** The snapshot's data, once step() has returned true. */
  bytes(): Uint8Array {
    const j = this.joining;
    assert(j !== null && j.next === j.chunks.length, 'a snapshot\'s data was asked for before it was written');
    return j.data;
  }
}
