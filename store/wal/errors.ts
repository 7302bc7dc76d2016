import { BerthError } from '../../lib/errors.ts';

/** Damage the WAL cannot repair on its own: valid records follow a bad one. */
export class WalCorruptError extends BerthError {
  constructor(file: string, offset: number, reason: string) {
    super('BERTH_WAL_CORRUPT', `${file}: corrupt record at byte ${offset} (${reason}) followed by valid records; refusing to drop acknowledged data. Restore this member from a snapshot or remove it and add it back to the cluster.`);
  }
}

/** The data directory belongs to another member or cluster. */
export class WalMismatchError extends BerthError {
  constructor(message: string) {
    super('BERTH_WAL_MISMATCH', message);
  }
}
