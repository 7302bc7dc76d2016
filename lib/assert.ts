import { AssertionFailed } from './errors.ts';

/** Crash on a broken invariant. Stays on in production: a crash beats corrupt state. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}
