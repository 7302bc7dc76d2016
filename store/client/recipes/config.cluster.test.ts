import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { HttpKvBackend } from '../http-backend.ts';
import { Config } from './config.ts';
import { setSurely } from './testing/write-surely.ts';

const WRITES = 300;

test(`Config following one store member misses none of ${WRITES} changes across that member's SIGKILL and restart`, { timeout: 120_000 }, async (t) => {
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  const [node0, node1, node2] = cluster.members;
  // The follower knows only node0; the writer never uses it.
  const followerKv = new HttpKvBackend({ endpoints: [node0!.clientUrl], timeoutMs: 1000 });
  const writerKv = new HttpKvBackend({ endpoints: [node1!.clientUrl, node2!.clientUrl] });
  t.after(async () => {
    await followerKv.close();
    await writerKv.close();
  });
  await writerKv.set('/w/k0', 'start');
  const cfg = await Config.load(followerKv, '/w', { retryMs: 100 });
  t.after(() => cfg.close());
  const seen: { key: string; index: number }[] = [];
  cfg.onChange((c) => seen.push({ key: c.key, index: c.index }));
  const written: { key: string; index: number }[] = [];
  for (let i = 1; i <= WRITES; i++) {
    if (i === 100) await cluster.kill(node0!.name, 'SIGKILL');
    if (i === 200) await cluster.restart(node0!.name);
    written.push({ key: `k${i}`, index: await setSurely(writerKv, `/w/k${i}`, String(i)) });
  }
  await cfg.waitForIndex(written.at(-1)!.index, 30_000);
  assert.deepEqual(seen, written, 'every change, once, in index order');
  assert.equal(Object.keys(cfg.current).length, WRITES + 1);
});
