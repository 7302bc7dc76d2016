/**
 * Makes it safe to send a write again after a leader change, without de-duplication state.
 *
 * A proposal forwarded to a leader that then dies is simply lost: nobody answers it, and
 * sending it again blindly could apply it twice (the first copy may have reached the log after
 * all). So every copy carries its *epoch*, the raft term in which the proposer sent it, and
 * every member applies a proposal entry only when the entry's term equals its epoch; a copy
 * that crossed into a later term is skipped by all members alike. The entries of a term that
 * will ever commit all precede the first committed entry of a later term, so once a member has
 * applied an entry of a term above a copy's epoch, that copy is either applied already or
 * never will be: an unanswered proposal can then be sent again, with the new term as epoch.
 *
 * Pure bookkeeping for one member's own proposals; the caller applies and re-sends.
 */
export class ProposalEpochs {
  /** Own proposals with a copy in flight: the epoch of the newest copy. */
  private readonly inFlight = new Map<string, number>();
  /** Own proposals whose newest copy can no longer commit. */
  private readonly lost = new Set<string>();
  private appliedTerm = 0;
  private scannedTerm = 0;

  /** A copy of proposal `id` was handed to raft in term `epoch`. */
  sent(id: string, epoch: number): void {
    this.inFlight.set(id, epoch);
    this.lost.delete(id);
  }

  /** Proposal `id` was answered (applied, failed or timed out): nothing more to send. */
  settled(id: string): void {
    this.inFlight.delete(id);
    this.lost.delete(id);
  }

  /**
   * A snapshot at `term` was restored. Own proposals in flight may be inside it, applied
   * without this member seeing their entries, so none of them may be sent again: they are
   * forgotten and left to time out, as any write of unknown outcome.
   */
  restored(term: number): void {
    this.appliedTerm = Math.max(this.appliedTerm, term);
    this.inFlight.clear();
    this.lost.clear();
  }

  /**
   * An entry of `entryTerm` is being applied; for a proposal, `id` and `epoch` are its own
   * (epoch undefined: written before epochs existed). Returns whether to apply it: the same
   * answer on every member, as it depends only on the entry.
   */
  shouldApply(entryTerm: number, id?: string, epoch?: number): boolean {
    if (entryTerm > this.appliedTerm) this.appliedTerm = entryTerm;
    if (epoch === undefined || epoch === entryTerm) return true;
    if (id !== undefined && this.inFlight.get(id) === epoch) this.lost.add(id);
    return false;
  }

  /**
   * The own proposals to send again now: those whose newest copy is from a term before the
   * newest applied entry's, or was skipped. They leave the in-flight set until sent() again,
   * so a proposal is never sent twice in one term.
   */
  takeLost(): string[] {
    if (this.appliedTerm > this.scannedTerm) {
      this.scannedTerm = this.appliedTerm;
      for (const [id, epoch] of this.inFlight) if (epoch < this.appliedTerm) this.lost.add(id);
    }
    if (this.lost.size === 0) return [];
    const ids = [...this.lost];
    this.lost.clear();
    for (const id of ids) this.inFlight.delete(id);
    return ids;
  }
}
