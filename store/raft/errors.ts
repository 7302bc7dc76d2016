import { BerthError } from '../../lib/errors.ts';

/** The requested index is older than the storage's first index (compacted into a snapshot). */
export class CompactedError extends BerthError {
  constructor(index: number, first: number) {
    super('BERTH_RAFT_COMPACTED', `raft log index ${index} is compacted (first available is ${first})`);
  }
}

/** The requested index is past the end of the log. */
export class UnavailableError extends BerthError {
  constructor(index: number, last: number) {
    super('BERTH_RAFT_UNAVAILABLE', `raft log index ${index} is unavailable (last is ${last})`);
  }
}

/** A snapshot older than the one already held. */
export class SnapshotOutOfDateError extends BerthError {
  constructor(index: number, have: number) {
    super('BERTH_RAFT_SNAPSHOT_OUT_OF_DATE', `snapshot at ${index} is older than the current one at ${have}`);
  }
}
