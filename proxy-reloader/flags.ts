/**
 * The flag table of `berth proxy-reloader` and its merge with the config file.
 * Precedence: flags > environment (BERTH_*) > config file > defaults, so table defaults are
 * left undefined here and applied after the file.
 */
import type { FlagSpec } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';
import type { FileConfig } from './config-file.ts';
import { parseDurationMs, parseWait, type WaitSpec } from './duration.ts';
import type { ResourceSpec } from './resource.ts';
import { parseRoute, type Route } from './routes.ts';
import type { Strategy } from './upstream-pool.ts';
import { resolve } from 'node:path';

export const flagSpecs: FlagSpec[] = [
  { name: 'config', type: 'string', default: undefined, help: 'YAML or JSON config file (templates, routes, settings); SIGHUP re-reads it' },
  { name: 'store', type: 'list', default: undefined, help: 'store client URLs, comma separated (default http://127.0.0.1:2379)', env: 'BERTH_STORE' },
  { name: 'watch', type: 'list', default: undefined, help: 'template mode: store directories to watch (default /services)' },
  { name: 'template', type: 'string', repeatable: true, default: [], help: 'template mode: source.hbs:dest (repeatable); uses --check and --reload' },
  { name: 'check', type: 'string', default: undefined, help: 'check command for --template files; {{file}} = the staged file (checked before install)' },
  { name: 'reload', type: 'string', default: undefined, help: 'reload command for --template files (one run per change)' },
  { name: 'install-mode', type: 'enum', choices: ['rename', 'inplace'], default: 'rename', help: 'rename (atomic) or inplace (for single-file bind mounts)' },
  { name: 'command-timeout', type: 'string', default: '30s', help: 'timeout of check and reload commands' },
  { name: 'wait', type: 'string', default: undefined, help: 'template mode debounce min:max, e.g. 200ms:2s (default 200ms:2s)' },
  { name: 'max-removal', type: 'number', default: undefined, min: 0, help: 'percent of a service\'s upstreams that may vanish at once before the grace period applies (default 50; 100 = off)' },
  { name: 'removal-grace', type: 'string', default: undefined, help: 'how long a mass removal is held back (default 10s)' },
  { name: 'once', type: 'bool', default: false, help: 'render every template once and exit (exit code 1 if any failed)' },
  { name: 'dry-run', type: 'bool', default: false, help: 'render to stdout; write nothing, run no command' },
  { name: 'listen', type: 'string', default: undefined, help: 'built-in proxy mode: address to listen on, e.g. 127.0.0.1:8080' },
  { name: 'route', type: 'string', repeatable: true, default: [], help: 'built-in proxy: host=/services/x or /prefix/=/services/y (repeatable)' },
  { name: 'balance', type: 'enum', choices: ['round-robin', 'least-conn'], default: undefined, help: 'built-in proxy balancing (default round-robin)' },
  { name: 'slow-start', type: 'string', default: '0', help: 'built-in proxy: ramp a new upstream\'s share of requests up over this time, e.g. 10s (0 = off)' },
  { name: 'sticky-cookie', type: 'string', default: undefined, help: 'built-in proxy: sticky sessions through this cookie (off when unset)' },
  { name: 'health-path', type: 'string', default: undefined, help: 'built-in proxy: active health check path (off when unset)' },
  { name: 'health-interval', type: 'string', default: '2s', help: 'active health check interval' },
  { name: 'health-timeout', type: 'string', default: '1s', help: 'active health check timeout' },
  { name: 'health-rise', type: 'int', default: 2, min: 1, help: 'successes that mark an upstream healthy again' },
  { name: 'health-fall', type: 'int', default: 2, min: 1, help: 'failures that mark an upstream unhealthy' },
  { name: 'max-fails', type: 'int', default: 1, min: 1, help: 'passive health: consecutive connection failures that eject an upstream' },
  { name: 'eject-time', type: 'string', default: '5s', help: 'passive health: how long an ejected upstream sits out' },
  { name: 'connect-timeout', type: 'string', default: '2s', help: 'built-in proxy: a connect to an upstream not done by then fails and the request goes to another upstream (0 = wait for the kernel)' },
  { name: 'status-path', type: 'string', default: '/status', help: 'path of the status JSON on the proxy listener ("" = off)' },
  { name: 'log-level', type: 'enum', choices: ['debug', 'info', 'warn', 'error'], default: 'info', help: 'log level' },
];

/** Raw parsed flags. */
export interface RawFlags {
  config?: string;
  store?: string[];
  watch?: string[];
  template: string[];
  check?: string;
  reload?: string;
  installMode: 'rename' | 'inplace';
  commandTimeout: string;
  wait?: string;
  maxRemoval?: number;
  removalGrace?: string;
  once: boolean;
  dryRun: boolean;
  listen?: string;
  route: string[];
  balance?: Strategy;
  stickyCookie?: string;
  slowStart: string;
  healthPath?: string;
  healthInterval: string;
  healthTimeout: string;
  healthRise: number;
  healthFall: number;
  maxFails: number;
  ejectTime: string;
  connectTimeout: string;
  statusPath: string;
  logLevel: string;
}

/** Everything main needs, validated. */
export interface Settings {
  store: string[];
  watch: string[];
  resources: ResourceSpec[];
  wait: WaitSpec;
  maxRemovalPct: number;
  removalGraceMs: number;
  once: boolean;
  dryRun: boolean;
  listen?: { host: string; port: number };
  routes: Route[];
  strategy: Strategy;
  stickyCookie?: string;
  slowStartMs: number;
  health?: { path: string; intervalMs: number; timeoutMs: number; rise: number; fall: number };
  maxFails: number;
  ejectMs: number;
  connectTimeoutMs: number;
  statusPath: string;
}

function parseListen(raw: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(raw);
  if (!m) throw new ConfigError('--listen', `expected host:port, got "${raw}"`);
  return { host: m[1] === '' ? '0.0.0.0' : m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function flagResources(f: RawFlags): ResourceSpec[] {
  return f.template.map((t) => {
    const i = t.lastIndexOf(':');
    if (i <= 0) throw new ConfigError('--template', `expected source.hbs:dest, got "${t}"`);
    return { source: resolve(t.slice(0, i)), dest: resolve(t.slice(i + 1)), check: f.check, reload: f.reload, mode: f.installMode, perms: 0o644, commandTimeoutMs: parseDurationMs(f.commandTimeout, '--command-timeout'), vars: {} };
  });
}

/** Merges flags (and env, already in `f`) over the file over the defaults. */
export function settingsFrom(f: RawFlags, file: FileConfig | null): Settings {
  const listenRaw = f.listen ?? file?.listen;
  const routes = [...f.route, ...(f.route.length === 0 ? (file?.routes ?? []) : [])].map(parseRoute);
  if (routes.length > 0 && !listenRaw) throw new ConfigError('--listen', 'routes need an address to listen on, e.g. --listen 127.0.0.1:8080');
  const healthPath = f.healthPath ?? file?.healthPath;
  return {
    store: f.store ?? file?.store ?? ['http://127.0.0.1:2379'],
    watch: f.watch ?? file?.watch ?? ['/services'],
    resources: [...(file?.templates ?? []), ...flagResources(f)],
    wait: parseWait(f.wait ?? file?.wait ?? '200ms:2s'),
    maxRemovalPct: f.maxRemoval ?? file?.maxRemoval ?? 50,
    removalGraceMs: f.removalGrace !== undefined ? parseDurationMs(f.removalGrace, '--removal-grace') : (file?.removalGraceMs ?? 10_000),
    once: f.once,
    dryRun: f.dryRun,
    listen: listenRaw ? parseListen(listenRaw) : undefined,
    routes,
    stickyCookie: f.stickyCookie || undefined,
    slowStartMs: parseDurationMs(f.slowStart, '--slow-start'),
    strategy: f.balance ?? ((file?.balance as Strategy | undefined) ?? 'round-robin'),
    health: healthPath
      ? { path: healthPath, intervalMs: parseDurationMs(f.healthInterval, '--health-interval'), timeoutMs: parseDurationMs(f.healthTimeout, '--health-timeout'), rise: f.healthRise, fall: f.healthFall }
      : undefined,
    maxFails: f.maxFails,
    ejectMs: parseDurationMs(f.ejectTime, '--eject-time'),
    connectTimeoutMs: parseDurationMs(f.connectTimeout, '--connect-timeout'),
    statusPath: f.statusPath,
  };
}
