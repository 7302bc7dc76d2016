/**
 * A test worker: campaigns for an office and, while it holds it, acts on a FencedResource every
 * 100 ms with its fencing token and lease end. Run by election.cluster.test.ts, which kills,
 * pauses and partitions it. Prints `leader <token>`, `lost <token>` and `error <message>` lines.
 *
 *   node --import tsx election-worker.ts <endpoints,...> <key> <name> <ttlSeconds> <resourceUrl>
 */
import { HttpKvBackend } from '../../http-backend.ts';
import { Election } from '../election.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const [endpoints, key, name, ttl, resource] = process.argv.slice(2) as [string, string, string, string, string];
  const kv = new HttpKvBackend({ endpoints: endpoints.split(','), timeoutMs: 1000, retries: 1 });
  const election = new Election(kv, key, { ttlSeconds: Number(ttl) });
  const say = (s: string) => process.stdout.write(s + '\n');
  for (;;) {
    try {
      const office = await election.campaign(name);
      say(`leader ${office.token}`);
      while (office.valid) {
        await fetch(`${resource}/act?token=${office.token}&who=${name}&until=${office.validUntilMs}`, { method: 'POST', signal: AbortSignal.timeout(1000) }).then((r) => r.arrayBuffer()).catch(() => undefined);
        await sleep(100);
      }
      say(`lost ${office.token}`);
      await office.resign();
    } catch (e) {
      say(`error ${(e as Error).message.replace(/\s+/g, ' ')}`);
      await sleep(200);
    }
  }
}

main().catch((e: Error) => {
  process.stderr.write(`election-worker: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
