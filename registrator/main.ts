/** `berth registrator [flags] URL`: publish Docker containers as services in the store. */
import { createRootLogger } from '../lib/log.ts';
import { loadConfig } from './config.ts';
import { runRegistrator } from './registrator.ts';

/** Runs until SIGINT/SIGTERM; returns the exit code (bin/berth exits with it). */
export async function main(argv: string[]): Promise<number> {
  const loaded = loadConfig(argv);
  if ('help' in loaded) {
    process.stdout.write(loaded.help + '\n');
    return 0;
  }
  const log = createRootLogger({ level: loaded.config.logLevel }).child({ component: 'registrator' });
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    log.info({ signal: sig }, 'stopping; entries stay until their TTL');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runRegistrator(loaded.config, loaded.url, log, stop.signal);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
