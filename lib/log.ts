import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/**
 * The logger interface the pure cores (raft, kv) receive. pino's child loggers satisfy it;
 * tests can pass a collecting fake.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (for pure-core unit tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export type LogFormat = 'json' | 'pretty';

export interface RootLoggerOptions {
  level?: string;
  /** 'pretty' for humans; default: pretty when stdout is a TTY, else JSON. */
  format?: LogFormat;
  /** Where lines go (tests pass a sink); default stderr so stdout stays for command output. */
  destination?: DestinationStream;
}

/** One root logger per process; components take `root.child({ component: 'raft' })`. */
export function createRootLogger(opts: RootLoggerOptions = {}): PinoLogger {
  const level = opts.level ?? process.env.BERTH_LOG_LEVEL ?? 'info';
  const format = opts.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  if (opts.destination) return pino({ level, base: { pid: process.pid } }, opts.destination);
  if (format === 'pretty') {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: process.stderr.isTTY } },
    });
  }
  return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false }));
}

export type { PinoLogger };
