import { MessageType, type Entry, type Message, type Ready } from '../raft/types.ts';

/** A Ready taken apart around its durable write, in the order a member handles it. */
export interface ReadySplit {
  /** Sent before the write. */
  early: Message[];
  /** Sent once the write is durable. */
  late: Message[];
  /** Committed entries applied before or during the write. */
  durable: Entry[];
  /** Committed entries applied once the write is durable. */
  pending: Entry[];
}

/**
 * Raft thesis §10.2.1: a leader may replicate its entries while it writes them, so its fsync and
 * its followers' overlap. Everything else (votes, append responses) waits for the disk: those
 * promise something about this member's durable state. Committed entries below the Ready's first
 * new one were made durable by earlier Readies, so they need not wait; the rest, and all of them
 * when a snapshot comes first, do. StoreNode and the simulation both follow this.
 */
export function splitReady(rd: Ready, isLeader: boolean): ReadySplit {
  const early: Message[] = [];
  const late: Message[] = [];
  for (const m of rd.messages) (isLeader && isReplication(m) ? early : late).push(m);
  const firstNew = rd.entries[0]?.index ?? Infinity;
  const k = rd.snapshot ? 0 : rd.committedEntries.findIndex((e) => e.index >= firstNew);
  const [durable, pending] = k < 0 ? [rd.committedEntries, []] : [rd.committedEntries.slice(0, k), rd.committedEntries.slice(k)];
  return { early, late, durable, pending };
}

/** A leader's replication traffic: safe to send before its own log write is durable. */
function isReplication(m: Message): boolean {
  return m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
}
