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

/** A server could not bind the address a flag names (in use, not ours, no permission). */
export class ListenError extends BerthError {
  constructor(flag: string, url: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const why =
      code === 'EADDRINUSE' ? 'address already in use (another process listens there; choose another port)'
      : code === 'EADDRNOTAVAIL' ? 'address not available on this machine'
      : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
      : String((cause as Error | undefined)?.message ?? cause);
    super('BERTH_LISTEN', `${flag} ${url}: cannot listen: ${why}`, { cause });
  }
}
