import { ConfigError } from './errors.ts';

/**
 * One table per command: each row is a flag (etcd's names), its environment variable
 * (BERTH_ + upper snake case), its type, default and one line of help.
 * Precedence: flags > environment > defaults. Unknown flags and bad values name the flag.
 */
export type FlagType = 'string' | 'int' | 'number' | 'bool' | 'list' | 'enum';

export interface FlagSpec {
  /** Without the dashes: 'data-dir'. */
  readonly name: string;
  readonly type: FlagType;
  readonly default: string | number | boolean | readonly string[] | undefined;
  readonly help: string;
  /** For 'enum'. */
  readonly choices?: readonly string[];
  /** Minimum for 'int' / 'number'. */
  readonly min?: number;
  /** Environment variable; default BERTH_<NAME>. Set to null for none. */
  readonly env?: string | null;
  /** One-letter alias, e.g. 'r' for -r. */
  readonly short?: string;
  /** A flag that may be given several times (collects into a list). */
  readonly repeatable?: boolean;
}

export type ConfigValue = string | number | boolean | string[] | undefined;

export interface ParsedConfig<T> {
  readonly values: T;
  readonly positionals: string[];
  readonly help: boolean;
}

/** `data-dir` -> `dataDir`. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `data-dir` -> `BERTH_DATA_DIR`. */
export function envName(spec: FlagSpec, prefix = 'BERTH_'): string | null {
  if (spec.env === null) return null;
  return spec.env ?? prefix + spec.name.toUpperCase().replace(/-/g, '_');
}

function convert(spec: FlagSpec, raw: string, source: string): ConfigValue {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int':
    case 'number': {
      const n = Number(raw);
      const ok = raw.trim() !== '' && Number.isFinite(n) && (spec.type === 'number' || Number.isInteger(n));
      if (!ok) throw new ConfigError(source, `expected ${spec.type === 'int' ? 'an integer' : 'a number'}, got "${raw}"`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(source, `must be at least ${spec.min}, got ${n}`);
      return n;
    }
    case 'bool': {
      const v = raw.toLowerCase();
      if (['true', '1', 'yes', 'on', ''].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(source, `expected true or false, got "${raw}"`);
    }
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'enum':
      if (!spec.choices?.includes(raw)) {
        throw new ConfigError(source, `expected one of ${spec.choices?.join(', ')}, got "${raw}"`);
      }
      return raw;
  }
}

/**
 * Parses argv (without node and script) against the table. Accepts `--flag value`,
 * `--flag=value`, `-f value`, bare `--bool-flag`, and `--` to end flags.
 */
export function parseConfig<T>(
  specs: readonly FlagSpec[],
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  opts: { envPrefix?: string; allowPositionals?: boolean } = {},
): ParsedConfig<T> {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const fromFlags = new Map<string, ConfigValue>();
  const positionals: string[] = [];
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = long ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = long ? byName.get(name) : byShort.get(name);
    if (!spec) throw new ConfigError(arg, `unknown flag; run with --help to see the flags`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (spec.type === 'bool') {
      const next = argv[i + 1];
      if (next !== undefined && /^(true|false)$/i.test(next)) raw = argv[++i]!;
      else raw = 'true';
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`--${spec.name}`, 'needs a value');
      raw = next;
      i++;
    }
    const value = convert(spec, raw, `--${spec.name}`);
    if (spec.repeatable) {
      const prev = (fromFlags.get(spec.name) as string[] | undefined) ?? [];
      fromFlags.set(spec.name, [...prev, ...(Array.isArray(value) ? value : [String(value)])]);
    } else fromFlags.set(spec.name, value);
  }

  if (positionals.length > 0 && opts.allowPositionals === false) {
    throw new ConfigError(positionals[0]!, 'unexpected argument');
  }

  const values: Record<string, ConfigValue> = {};
  for (const spec of specs) {
    const key = camelCase(spec.name);
    if (fromFlags.has(spec.name)) {
      values[key] = fromFlags.get(spec.name);
      continue;
    }
    const envKey = envName(spec, opts.envPrefix);
    const envRaw = envKey ? env[envKey] : undefined;
    if (envKey && envRaw !== undefined) {
      values[key] = convert(spec, envRaw, envKey);
      continue;
    }
    const d = spec.default;
    values[key] = Array.isArray(d) ? [...d] : (d as ConfigValue);
  }
  return { values: Object.freeze(values) as T, positionals, help };
}

/** The --help text for a table. */
export function formatHelp(usage: string, specs: readonly FlagSpec[], envPrefix = 'BERTH_'): string {
  const lines = [usage, '', 'Flags (each can also come from its environment variable; flags win):'];
  for (const s of specs) {
    const flag = `--${s.name}${s.short ? `, -${s.short}` : ''}${s.type === 'bool' ? '' : ` <${s.type === 'enum' ? s.choices?.join('|') : s.type}>`}`;
    const def = s.default === undefined || (Array.isArray(s.default) && s.default.length === 0) ? '' : ` (default ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)})`;
    const env = envName(s, envPrefix);
    lines.push(`  ${flag.padEnd(38)} ${s.help}${def}${env ? ` [${env}]` : ''}`);
  }
  return lines.join('\n');
}
