/**
 * Merges runs of messages to one peer into what raft would have sent had it sent them a moment
 * later: appends that continue each other become one append, and positive append answers
 * collapse into the one with the highest index (it says everything the others say). raft sends
 * an append per proposal and a commit update per answer, so a busy leader's frame held dozens
 * of messages, each encoded, decoded, stepped and answered on its own.
 */
import { MessageType, type Message, type NodeId } from './types.ts';

/** Entry data a merged append may carry (raft's own maxSizePerMsg in berth). */
export const MAX_COALESCED_ENTRY_BYTES = 1 << 20;

const entryBytes = (m: Message) => m.entries.reduce((n, e) => n + e.data.length, 0);

/** Whether append `b` starts right where append `a` ends (same leader, same term). */
function continues(a: Message, b: Message): boolean {
  if (a.type !== MessageType.MsgApp || b.type !== MessageType.MsgApp) return false;
  if (a.term !== b.term || a.from !== b.from || a.to !== b.to) return false;
  const lastIndex = a.index + a.entries.length;
  const lastTerm = a.entries.length > 0 ? a.entries[a.entries.length - 1]!.term : a.logTerm;
  return b.index === lastIndex && b.logTerm === lastTerm;
}

function positiveAnswers(a: Message, b: Message): boolean {
  return a.type === MessageType.MsgAppResp && b.type === MessageType.MsgAppResp && !a.reject && !b.reject && a.term === b.term && a.from === b.from && a.to === b.to;
}

/** `msgs` in order, adjacent mergeable ones merged; appends grow to at most `maxBytes` of entry data. */
export function coalesceMessages(msgs: Message[], maxBytes = MAX_COALESCED_ENTRY_BYTES): Message[] {
  if (msgs.length < 2) return msgs;
  const out: Message[] = [];
  let bytes = 0;
  // A merged append is a copy made here, so later appends extend its entries in place: copying
  // the array at every merge made a frame of n appends cost n^2/2 copies.
  let merged: Message | null = null;
  for (const m of msgs) {
    const prev = out[out.length - 1];
    const size = entryBytes(m);
    if (prev && continues(prev, m) && bytes + size <= maxBytes) {
      if (prev !== merged) out[out.length - 1] = merged = { ...prev, entries: [...prev.entries] };
      for (const e of m.entries) merged.entries.push(e);
      merged.commit = Math.max(merged.commit, m.commit);
      bytes += size;
    } else if (prev && positiveAnswers(prev, m)) {
      if (m.index >= prev.index) out[out.length - 1] = m;
    } else {
      out.push(m);
      bytes = size;
    }
  }
  return out;
}

/** `msgs` grouped by the peer they go to, each group in the order sent (a frame's worth per peer). */
export function byPeer(msgs: Message[]): Map<NodeId, Message[]> {
  const groups = new Map<NodeId, Message[]>();
  for (const m of msgs) {
    const list = groups.get(m.to);
    if (list) list.push(m);
    else groups.set(m.to, [m]);
  }
  return groups;
}
