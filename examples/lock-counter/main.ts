/**
 * Increments a number in a shared file --increments times, each time under a distributed Lock,
 * so any number of copies of this process (on any hosts sharing the file) never lose an update.
 * Each write carries the fencing token; a stale holder's write is refused.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Lock } from '../../store/client/recipes/index.ts';
import { startExample } from '../common/cli.ts';

/** The counter file: `<count> <token of the last writer>`. */
export function readCounter(file: string): { count: number; token: number } {
  try {
    const [count, token] = readFileSync(file, 'utf8').trim().split(' ').map(Number);
    return { count: count ?? 0, token: token ?? 0 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0, token: 0 };
    throw e;
  }
}

async function main(): Promise<void> {
  const ex = startExample<{ file: string; increments: number; lock: string; ttl: number }>('lock-counter', 'usage: npx tsx examples/lock-counter/main.ts [--file counter.txt] [--increments 100]', [
    { name: 'file', type: 'string', default: 'counter.txt', help: 'the shared counter file' },
    { name: 'increments', type: 'int', default: 100, min: 0, help: 'how many times to add one' },
    { name: 'lock', type: 'string', default: '/examples/locks/counter', help: 'the lock directory in the store' },
    { name: 'ttl', type: 'int', default: 5, min: 1, help: 'seconds before a dead holder\'s lock is released' },
  ]);
  if (!ex) return;
  const { file } = ex.flags;
  const lock = new Lock(ex.kv, ex.flags.lock, { ttlSeconds: ex.flags.ttl, value: `pid ${process.pid}`, logger: ex.log });
  let done = 0;
  let refused = 0;
  while (done < ex.flags.increments && !ex.stopping.aborted) {
    await lock.withLock(async (held) => {
      const c = readCounter(file);
      if (c.token > held.token || !held.valid) {
        refused++;
        return;
      }
      writeFileSync(`${file}.${process.pid}`, `${c.count + 1} ${held.token}\n`);
      renameSync(`${file}.${process.pid}`, file);
      done++;
    });
  }
  process.stdout.write(`pid ${process.pid}: added ${done} (refused ${refused}); counter is now ${readCounter(file).count}\n`);
  await ex.kv.close();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
