import { BerthError } from '../../../lib/errors.ts';

/**
 * The key that held a lock or a leadership is gone or could not be refreshed within its TTL:
 * the store may already have handed the lock or the office to someone else, so stop acting.
 */
export class LeaseLostError extends BerthError {
  readonly key: string;
  constructor(key: string, why: string) {
    super('BERTH_LEASE_LOST', `${key}: ${why}; another holder may act now, stop using this lease and its fencing token`);
    this.key = key;
  }
}

/** The caller's AbortSignal ended a wait for a lock or an office. */
export class RecipeAbortedError extends BerthError {
  constructor(what: string) {
    super('BERTH_RECIPE_ABORTED', `${what} was aborted by the caller`);
  }
}
