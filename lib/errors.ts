/**
 * The base of every error berth raises on purpose. `code` is stable (BERTH_*) so callers and
 * tests can branch on it; `message` says what was wrong and what to do about it.
 * Each folder declares its own subclasses in its `errors.ts`.
 */
export class BerthError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A command-line flag or environment variable with a value we cannot use. */
export class ConfigError extends BerthError {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super('BERTH_CONFIG', `${flag}: ${message}`);
    this.flag = flag;
  }
}

/** A broken invariant: a bug in berth, never a user error. Crashing beats corrupting. */
export class AssertionFailed extends BerthError {
  constructor(message: string) {
    super('BERTH_ASSERT', message);
  }
}
