/** The flag table of `berth registrator` (flags > BERTH_* environment > defaults). */
import { ConfigError } from '../lib/errors.ts';
import { formatHelp, parseConfig, type FlagSpec } from '../lib/config.ts';

export const registratorFlags: readonly FlagSpec[] = [
  { name: 'ip', type: 'string', default: undefined, help: 'IP address to advertise for published ports (default: the binding address, else this host\'s first non-loopback IPv4)' },
  { name: 'internal', type: 'bool', default: false, help: 'advertise the container\'s own IP and exposed port (for traffic over the Docker bridge) instead of published ports' },
  { name: 'network', type: 'string', default: undefined, help: 'the network whose container address is used (also per container: SERVICE_NETWORK)' },
  { name: 'tags', type: 'list', default: [], help: 'comma-separated tags appended to every service' },
  { name: 'host-id', type: 'string', default: undefined, help: 'stable identity of this host in every service ID (default: the Docker engine ID, shortened)' },
  { name: 'ttl', type: 'int', default: 30, min: 0, help: 'seconds an entry lives without a refresh; 0 = never expires' },
  { name: 'ttl-refresh', type: 'int', default: 10, min: 0, help: 'seconds between TTL refreshes (refresh=true: watchers are not woken)' },
  { name: 'resync', type: 'int', default: 0, min: 0, help: 'seconds between full resyncs with Docker; 0 = only at start and after reconnects' },
  { name: 'cleanup', type: 'bool', default: false, help: 'remove this host\'s entries whose container no longer runs, at start and on every resync' },
  { name: 'deregister', type: 'enum', choices: ['always', 'on-success'], default: 'always', help: 'on exit, deregister always, or only after exit code 0 (else the entry expires by TTL)' },
  { name: 'retry-attempts', type: 'int', default: 0, min: -1, help: 'retries when the registry or Docker do not answer at start; -1 = forever' },
  { name: 'retry-interval', type: 'int', default: 2000, min: 1, help: 'milliseconds between those retries' },
  { name: 'require-label', type: 'string', default: undefined, help: 'register only containers with this label (NAME or NAME=VALUE)' },
  { name: 'wait-for-port', type: 'bool', default: true, help: 'register a TCP service only once its port accepts connections' },
  { name: 'wait-for-port-timeout', type: 'int', default: 60, min: 1, help: 'seconds to wait for a port before giving up (a later resync tries again)' },
  { name: 'cert-file', type: 'string', default: undefined, help: 'client certificate for an https:// registry' },
  { name: 'key-file', type: 'string', default: undefined, help: 'client key for an https:// registry' },
  { name: 'trusted-ca-file', type: 'string', default: undefined, help: 'CA bundle that signed the registry\'s certificate' },
  { name: 'log-level', type: 'enum', choices: ['debug', 'info', 'warn', 'error'], default: 'info', help: 'log level' },
];

/** Parsed and checked flags. */
export interface RegistratorConfig {
  readonly ip?: string;
  readonly internal: boolean;
  readonly network?: string;
  readonly tags: string[];
  readonly hostId?: string;
  readonly ttl: number;
  readonly ttlRefresh: number;
  readonly resync: number;
  readonly cleanup: boolean;
  readonly deregister: 'always' | 'on-success';
  readonly retryAttempts: number;
  readonly retryInterval: number;
  readonly requireLabel?: string;
  readonly waitForPort: boolean;
  readonly waitForPortTimeout: number;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly trustedCaFile?: string;
  readonly logLevel: string;
}

export const USAGE = 'usage: berth registrator [flags] URL\n\nURL names the store and, by its path, the key prefix: http://127.0.0.1:2379/services,\netcd://host:2379/services, or several comma-separated endpoints that fail over.';

/** Parses argv; returns the help text instead when --help was given. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { config: RegistratorConfig; url: string } | { help: string } {
  const parsed = parseConfig<RegistratorConfig>(registratorFlags, argv, env);
  if (parsed.help) return { help: formatHelp(USAGE, registratorFlags) };
  const c = parsed.values;
  if (parsed.positionals.length !== 1) throw new ConfigError('URL', parsed.positionals.length === 0 ? 'missing; e.g. berth registrator http://127.0.0.1:2379/services' : `expected one URL, got ${parsed.positionals.length}`);
  if (c.ttl > 0 && (c.ttlRefresh === 0 || c.ttlRefresh >= c.ttl)) throw new ConfigError('--ttl-refresh', `must be above 0 and below --ttl (${c.ttl}), got ${c.ttlRefresh}`);
  if (c.hostId !== undefined && !/^[A-Za-z0-9._-]+$/.test(c.hostId)) throw new ConfigError('--host-id', `use letters, digits, ".", "_" and "-" only, got "${c.hostId}"`);
  return { config: c, url: parsed.positionals[0]! };
}
