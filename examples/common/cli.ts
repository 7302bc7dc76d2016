/**
 * What every example shares: its flags (with --endpoints first), a store client, a logger, and
 * a clean exit on SIGINT/SIGTERM.
 */
import { formatHelp, parseConfig, type FlagSpec } from '../../lib/config.ts';
import { ConfigError } from '../../lib/errors.ts';
import { createRootLogger, type PinoLogger } from '../../lib/log.ts';
import { HttpKvBackend } from '../../store/client/http-backend.ts';

const endpointsFlag: FlagSpec = { name: 'endpoints', type: 'list', default: ['http://127.0.0.1:2379'], help: 'store client URLs (berth or etcd with --enable-v2)' };

/** A started example: its parsed flags, store client, logger and stop signal. */
export interface Example<T> {
  flags: T;
  kv: HttpKvBackend;
  log: PinoLogger;
  /** Aborted on SIGINT or SIGTERM. */
  stopping: AbortSignal;
}

/** Parses flags (printing help on --help) and connects; returns null when the process should just exit. */
export function startExample<T>(name: string, usage: string, specs: FlagSpec[], argv = process.argv.slice(2)): Example<T> | null {
  // Only --endpoints reads the environment (BERTH_ENDPOINTS): generic names like BERTH_PORT
  // would collide with other berth commands' settings.
  const all = [endpointsFlag, ...specs.map((s) => ({ env: null, ...s }))];
  let parsed;
  try {
    parsed = parseConfig<T & { endpoints: string[] }>(all, argv, process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exitCode = 2;
    return null;
  }
  if (parsed.help) {
    process.stdout.write(formatHelp(usage, all) + '\n');
    return null;
  }
  const log = createRootLogger({ format: 'json' }).child({ component: name });
  const kv = new HttpKvBackend({ endpoints: parsed.values.endpoints, logger: log });
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
  return { flags: parsed.values, kv, log, stopping: controller.signal };
}

/** Resolves when `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}
