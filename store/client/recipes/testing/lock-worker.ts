/**
 * A test worker: increments a shared counter file `count` times, each time under the Lock.
 * Run by lock.cluster.test.ts as a child process (which SIGKILLs it at random). Prints one
 * line per step on stdout: `acquired <token>`, `ack <token> <count>`, `released`, `stale <token> <last>`.
 *
 *   node --import tsx lock-worker.ts <endpoints,...> <lockDir> <counterFile> <count> <ttlSeconds>
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { HttpKvBackend } from '../../http-backend.ts';
import { Lock } from '../lock.ts';
import { LeaseLostError } from '../errors.ts';

/** The shared resource: a count and every fencing token that incremented it, in order. */
export interface CounterFile {
  count: number;
  tokens: number[];
}

/** The counter file's content (empty when it does not exist yet). */
export function readCounter(path: string): CounterFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CounterFile;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0, tokens: [] };
    throw e;
  }
}

/** Atomic replace: a SIGKILL leaves either the old or the new file, never half of one. */
function writeCounter(path: string, c: CounterFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(c));
  renameSync(tmp, path);
}

async function main(): Promise<void> {
  const [endpoints, dir, file, count, ttl] = process.argv.slice(2) as [string, string, string, string, string];
  const kv = new HttpKvBackend({ endpoints: endpoints.split(','), timeoutMs: 2000 });
  const lock = new Lock(kv, dir, { ttlSeconds: Number(ttl), value: String(process.pid) });
  const say = (s: string) => process.stdout.write(s + '\n');
  for (let done = 0; done < Number(count); ) {
    try {
      await lock.withLock(async (held) => {
        say(`acquired ${held.token}`);
        const c = readCounter(file);
        // Some work inside the critical section, so kills and waiters overlap with it.
        await new Promise((r) => setTimeout(r, 2));
        const last = c.tokens.at(-1) ?? 0;
        // The resource's own fencing check: a stale holder would be refused here.
        if (last >= held.token) return say(`stale ${held.token} ${last}`);
        if (!held.valid) return say(`lost ${held.token}`);
        writeCounter(file, { count: c.count + 1, tokens: [...c.tokens, held.token] });
        say(`ack ${held.token} ${c.count + 1}`);
        done++;
      });
      say('released');
    } catch (e) {
      // A lost place in line or a failed request: queue again (a key left behind expires).
      say(e instanceof LeaseLostError ? `lost-waiting ${e.key}` : `error ${(e as Error).message.replace(/\s+/g, ' ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await kv.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: Error) => {
    process.stderr.write(`lock-worker: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
