/**
 * One worker of the leader-election example. Workers campaign for one office; the leader does
 * the work (appends a line to a shared journal every --every-ms) for as long as its lease is
 * valid, fenced by its token: the journal refuses a line whose token is older than its last.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { Election } from '../../store/client/recipes/index.ts';
import { startExample } from '../common/cli.ts';

/** The journal's fencing check: the token of its last line (0 when empty). */
export function lastToken(journal: string): number {
  let text = '';
  try {
    text = readFileSync(journal, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const last = text.trimEnd().split('\n').at(-1) ?? '';
  return Number(last.split(' ')[0]) || 0;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((r) => {
  const timer = setTimeout(r, ms);
  signal.addEventListener('abort', () => (clearTimeout(timer), r()), { once: true });
});

async function main(): Promise<void> {
  const ex = startExample<{ name: string; key: string; ttl: number; journal: string; everyMs: number }>('leader-election', 'usage: npx tsx examples/leader-election/worker.ts --name w1 [--journal journal.log]', [
    { name: 'name', type: 'string', default: `worker-${process.pid}`, help: 'this worker\'s name, stored as the leader key\'s value' },
    { name: 'key', type: 'string', default: '/examples/election/leader', help: 'the election key' },
    { name: 'ttl', type: 'int', default: 3, min: 1, help: 'seconds before a dead leader is replaced' },
    { name: 'journal', type: 'string', default: 'journal.log', help: 'the shared resource: the leader appends "<token> <name> <time>" lines' },
    { name: 'every-ms', type: 'int', default: 500, min: 10, help: 'how often the leader works' },
  ]);
  if (!ex) return;
  const { name, journal } = ex.flags;
  const say = (s: string) => process.stdout.write(`${name}: ${s}\n`);
  const election = new Election(ex.kv, ex.flags.key, { ttlSeconds: ex.flags.ttl, logger: ex.log });
  say(`campaigning (pid ${process.pid})`);
  while (!ex.stopping.aborted) {
    const office = await election.campaign(name, { signal: ex.stopping }).catch(() => null);
    if (!office) break;
    say(`leader with token ${office.token}`);
    office.signal.addEventListener('abort', () => say(`lost the office (token ${office.token}): ${(office.signal.reason as Error).message}`));
    while (office.valid && !ex.stopping.aborted) {
      if (lastToken(journal) > office.token) {
        say(`journal refused token ${office.token}: a newer leader wrote`);
        break;
      }
      appendFileSync(journal, `${office.token} ${name} ${new Date().toISOString()}\n`);
      await sleep(ex.flags.everyMs, ex.stopping);
    }
    await office.resign();
  }
  say('stopped');
  await ex.kv.close();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
