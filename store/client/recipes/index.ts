/** Coordination recipes over any KvBackend: Lock, Election, Config. */
export { Lock, type HeldLock, type LockOptions } from './lock.ts';
export { Election, type ElectionOptions, type LeaderInfo, type Leadership } from './election.ts';
export { Config, type ConfigChange, type ConfigOptions, type ConfigTree } from './config.ts';
export { LeaseLostError, RecipeAbortedError } from './errors.ts';
export { KeyLease } from './lease.ts';
