import { existsSync } from 'node:fs';
import { BerthError } from '../lib/errors.ts';

/** Subcommand dispatch only: each command lives in its own folder and exports `main(argv)`. */
const commands: Record<string, { help: string; module: string }> = {
  store: { help: 'run a store node (etcd v2 API)', module: '../store/main.ts' },
  ctl: { help: 'etcdctl-v2-style command line client', module: '../store/client/ctl/main.ts' },
  registrator: { help: 'publish Docker containers as services in the store', module: '../registrator/main.ts' },
  'proxy-reloader': { help: 'keep a load balancer current from the store', module: '../proxy-reloader/main.ts' },
};

interface CommandModule {
  main(argv: string[]): Promise<number>;
}

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(16)} ${c.help}`);
  return ['usage: berth <command> [flags]', '', 'commands:', ...rows, '', 'berth <command> --help shows its flags.'].join('\n');
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    const { BERTH_VERSION } = await import('../lib/version.ts');
    process.stdout.write(`berth ${BERTH_VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`berth: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const url = new URL(command.module, import.meta.url);
  if (!existsSync(url)) {
    process.stderr.write(`berth ${name}: not built yet\n`);
    return 2;
  }
  const mod = (await import(url.href)) as CommandModule;
  return mod.main(rest);
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof BerthError) {
    process.stderr.write(`berth: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
