import { StateType, type Entry, type NodeId } from '../raft/types.ts';
import type { SimNode } from './sim-node.ts';

export class InvariantViolation extends Error {}

/**
 * Raft's safety properties, checked after every simulated step:
 * election safety, committed entries never change, logs match on committed prefixes, and
 * every member's applied sequence is a prefix of the one committed sequence.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  private readonly committed = new Map<number, { term: number; data: string }>();

  /** Called as a member applies `e`: it must be the committed entry at that index, in order. */
  onCommitted(node: SimNode, e: Entry): void {
    if (e.index <= node.appliedIndex) throw new InvariantViolation(`node ${node.id} applied index ${e.index} after ${node.appliedIndex}`);
    const data = Buffer.from(e.data).toString('base64') + ':' + e.type;
    const known = this.committed.get(e.index);
    if (!known) this.committed.set(e.index, { term: e.term, data });
    else if (known.term !== e.term || known.data !== data) {
      throw new InvariantViolation(`node ${node.id} applied a different entry at committed index ${e.index} (term ${e.term} vs ${known.term})`);
    }
  }

  check(nodes: SimNode[]): void {
    for (const n of nodes) {
      if (!n.up) continue;
      const st = n.raw.status();
      if (st.softState.raftState === StateType.Leader) {
        const prev = this.leaders.get(st.hardState.term);
        if (prev !== undefined && prev !== n.id) throw new InvariantViolation(`two leaders in term ${st.hardState.term}: ${prev} and ${n.id}`);
        this.leaders.set(st.hardState.term, n.id);
      }
      // Every committed entry a member still holds matches the committed record.
      const log = n.raw.raft.log;
      const from = Math.max(log.firstIndex(), 1);
      const to = Math.min(log.committed, log.lastIndex());
      for (let i = Math.max(from, to - 20); i <= to; i++) {
        const known = this.committed.get(i);
        const term = log.termOrZero(i);
        if (known && term !== 0 && term !== known.term) throw new InvariantViolation(`node ${n.id} holds term ${term} at committed index ${i}, committed term is ${known.term}`);
      }
    }
  }

  committedCount(): number {
    return this.committed.size;
  }
}
