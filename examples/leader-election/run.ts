/**
 * Starts three leader-election workers (w1, w2, w3) as separate processes sharing one journal,
 * prints what they say, and stops them on Ctrl-C. Kill the leader (its pid is printed) and
 * watch another take over within the TTL.
 *
 *   npx tsx examples/leader-election/run.ts --endpoints http://127.0.0.1:2379 --journal /tmp/journal.log
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const worker = resolve(import.meta.dirname, 'worker.ts');
const passThrough = process.argv.slice(2);
const children: ChildProcess[] = [];
for (const name of ['w1', 'w2', 'w3']) {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, '--name', name, ...passThrough], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
}
const stop = () => children.forEach((c) => c.kill('SIGTERM'));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
