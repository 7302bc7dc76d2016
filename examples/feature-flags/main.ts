/**
 * A web service whose feature flags live in the store and take effect without a restart.
 * Flags are keys under --prefix (`/examples/flags/new-checkout = on`); GET / answers with the
 * page the current flags produce, GET /flags with the flags as JSON.
 */
import { createServer } from 'node:http';
import { Config, type ConfigTree } from '../../store/client/recipes/index.ts';
import { startExample, untilAborted } from '../common/cli.ts';

/** The flags this service knows, with their defaults; unknown keys are ignored. */
export interface Flags {
  newCheckout: boolean;
  banner: string;
}

/** Keys are kebab-case; a boolean flag is on for `on`, `true` or `1`. */
export function parseFlags(tree: ConfigTree): Flags {
  const on = (v: unknown) => typeof v === 'string' && ['on', 'true', '1'].includes(v.toLowerCase());
  const banner = tree.banner;
  return { newCheckout: on(tree['new-checkout']), banner: typeof banner === 'string' ? banner : '' };
}

/** The page the current flags produce. */
export function render(flags: Flags): string {
  return `${flags.banner ? `[${flags.banner}] ` : ''}checkout: ${flags.newCheckout ? 'new' : 'classic'}\n`;
}

async function main(): Promise<void> {
  const ex = startExample<{ prefix: string; port: number }>('feature-flags', 'usage: npx tsx examples/feature-flags/main.ts [--endpoints URLs] [--prefix /examples/flags] [--port 8080]', [
    { name: 'prefix', type: 'string', default: '/examples/flags', help: 'store directory holding the flags' },
    { name: 'port', type: 'int', default: 8080, min: 0, help: 'HTTP port on 127.0.0.1 (0 = any free port)' },
  ]);
  if (!ex) return;
  const config = await Config.load(ex.kv, ex.flags.prefix, { parse: parseFlags, logger: ex.log });
  config.onChange((c) => ex.log.info({ key: c.key, action: c.action, value: c.value, flags: c.config }, 'flags changed'));
  const server = createServer((req, res) => {
    if (req.url === '/flags') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(config.current));
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(render(config.current));
  });
  server.listen(ex.flags.port, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`feature-flags listening on http://127.0.0.1:${port} (flags under ${ex.flags.prefix})\n`);
  });
  await untilAborted(ex.stopping);
  server.close();
  await config.close();
  await ex.kv.close();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
