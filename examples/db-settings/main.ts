/**
 * An application that takes its database connection settings from the store: it validates
 * them, "connects" (prints the connection string; a real app would open a pool), and on every
 * change reconnects with the new settings. A bad value is refused and the old settings kept.
 */
import { Config, type ConfigTree } from '../../store/client/recipes/index.ts';
import { startExample, untilAborted } from '../common/cli.ts';

/** The typed connection settings the app runs with. */
export interface DbSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: 'disable' | 'require' | 'verify-full';
}

const SSL_MODES = ['disable', 'require', 'verify-full'] as const;

/** Throws with a message naming the key when a value is unusable. */
export function parseDbSettings(tree: ConfigTree): DbSettings {
  const str = (k: string, def?: string): string => {
    const v = tree[k];
    if (typeof v === 'string' && v !== '') return v;
    if (def !== undefined) return def;
    throw new Error(`${k} is required`);
  };
  const port = Number(str('port', '5432'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port must be 1-65535, got "${str('port')}"`);
  const sslmode = str('sslmode', 'require');
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) throw new Error(`sslmode must be one of ${SSL_MODES.join(', ')}, got "${sslmode}"`);
  return { host: str('host'), port, database: str('database'), user: str('user', 'app'), sslmode: sslmode as DbSettings['sslmode'] };
}

/** A libpq-style URL (no password: that belongs in a secret store, not in logs). */
export function connectionString(s: DbSettings): string {
  return `postgres://${s.user}@${s.host}:${s.port}/${s.database}?sslmode=${s.sslmode}`;
}

async function main(): Promise<void> {
  const ex = startExample<{ prefix: string }>('db-settings', 'usage: npx tsx examples/db-settings/main.ts [--endpoints URLs] [--prefix /examples/db]', [
    { name: 'prefix', type: 'string', default: '/examples/db', help: 'store directory holding host, port, database, user, sslmode' },
  ]);
  if (!ex) return;
  const say = (s: string) => process.stdout.write(s + '\n');
  let config: Config<DbSettings>;
  try {
    config = await Config.load(ex.kv, ex.flags.prefix, { parse: parseDbSettings, logger: ex.log });
  } catch (e) {
    say(`cannot start: ${(e as Error).message} (set it with: berth ctl set ${ex.flags.prefix}/<key> <value>)`);
    process.exitCode = 1;
    await ex.kv.close();
    return;
  }
  say(`connected to ${connectionString(config.current)}`);
  let current = connectionString(config.current);
  config.onChange((c) => {
    const next = connectionString(c.config);
    if (next === current) return;
    current = next;
    say(`${c.key} changed: reconnecting to ${next}`);
  });
  config.onInvalid((e) => say(`refused new settings: ${e.message}; still using ${current}`));
  await untilAborted(ex.stopping);
  await config.close();
  await ex.kv.close();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
