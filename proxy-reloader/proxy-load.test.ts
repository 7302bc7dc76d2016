/**
 * The built-in proxy (the real command, against a real berth store) under a steady load of
 * GETs while upstreams are added, removed (drained) and killed (crashed while registered):
 * no request fails while a healthy upstream exists, and each new upstream serves within 1 s
 * of its key being written (measured: key write start -> first request at the new backend).
 */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { Rand, seedFromEnv } from '../lib/rand.ts';
import { freePort } from '../lib/testing/ports.ts';
import { startProcess, waitFor } from '../lib/testing/process.ts';
import { startCluster } from '../lib/testing/store-cluster.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';
import { startBackend, type Backend } from './testing/backends.ts';
import { httpExchange } from './testing/http-get.ts';

const berthBin = resolve(import.meta.dirname, '../bin/berth');

test('built-in proxy under load while upstreams come, go and crash', { timeout: 120_000 }, async (t) => {
  const seed = seedFromEnv();
  console.log(`proxy-load seed ${seed} (rerun with SEED=${seed})`);
  const rand = new Rand(seed);
  const cluster = await startCluster('berth', 1);
  const kv = new HttpKvBackend({ endpoints: cluster.clientUrls });
  const live: Backend[] = [];
  const all: Backend[] = [];
  t.after(async () => {
    await Promise.all(all.map((b) => b.kill()));
    await kv.close();
    await cluster.stop();
  });
  let n = 0;
  const add = async () => {
    const b = await startBackend(`b${++n}`);
    all.push(b);
    const t0 = performance.now();
    await kv.set(`/services/web/${b.name}`, b.address);
    live.push(b);
    return { b, t0 };
  };
  await add();
  await add();
  const port = await freePort();
  const proxy = startProcess(process.execPath, [berthBin, 'proxy-reloader', '--store', cluster.clientUrls.join(','), '--listen', `127.0.0.1:${port}`, '--route', 'web.test=/services/web', '--balance', 'least-conn', '--max-removal', '100', '--log-level', 'warn']);
  t.after(() => proxy.stop());
  await waitFor('proxy serving', async () => (await httpExchange(port, '/', { host: 'web.test' }).catch(() => ({ status: 0 }))).status === 200, 20_000);

  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let ok = 0;
  const failures: string[] = [];
  let running = true;
  const loops = Array.from({ length: 16 }, async () => {
    while (running) {
      try {
        const r = await httpExchange(port, '/', { host: 'web.test', agent });
        if (r.status === 200) ok++;
        else failures.push(`HTTP ${r.status}: ${r.body.trim()}`);
      } catch (e) {
        failures.push(String(e));
      }
    }
  });

  const joinLatencies: number[] = [];
  const later: Promise<unknown>[] = [];
  const after = (ms: number, fn: () => Promise<unknown>) => later.push(new Promise((r) => setTimeout(r, ms)).then(fn));
  const actions: string[] = [];
  /** The ways of leaving, as choices 1 and 2 below. */
  const leaveWays = ['remove', 'kill'];
  for (let step = 0; step < 18; step++) {
    await new Promise((r) => setTimeout(r, 150 + rand.int(200)));
    // Seeded, except that from the middle on a way of leaving not yet seen comes first: a schedule
    // of 18 steps with no 'remove' at all (seed 1874139981) failed the check below.
    const unseen = step >= 9 ? leaveWays.findIndex((way) => !actions.some((a) => a.startsWith(way))) + 1 : 0;
    const choice = live.length <= 2 ? 0 : unseen || rand.int(3);
    if (choice === 0) {
      const { b, t0 } = await add();
      await waitFor(`${b.name} served`, () => b.firstHitAt !== null, 5000, 1);
      joinLatencies.push(b.firstHitAt! - t0);
      actions.push(`add ${b.name}`);
    } else {
      const victim = live.splice(rand.int(live.length), 1)[0]!;
      if (choice === 1) {
        // Deregistered first (as the registrator does on stop), closed once drained.
        await kv.delete(`/services/web/${victim.name}`);
        after(500, () => victim.close());
        actions.push(`remove ${victim.name}`);
      } else {
        // Crashes while still registered; its key goes later (as a TTL would expire it).
        await victim.kill();
        after(300, () => kv.delete(`/services/web/${victim.name}`));
        actions.push(`kill ${victim.name}`);
      }
    }
  }
  await Promise.all(later);
  running = false;
  await Promise.all(loops);
  agent.destroy();
  const status = JSON.parse((await httpExchange(port, '/status')).body) as { requests: { failed: number; retried: number } };
  const max = Math.max(...joinLatencies);
  console.log(`proxy-load: ${ok} requests ok, ${failures.length} failed, retried ${status.requests.retried}; actions: ${actions.join(', ')}`);
  console.log(`proxy-load: key write -> first request served by the new upstream: ${joinLatencies.map((x) => x.toFixed(1)).join(', ')} ms (max ${max.toFixed(1)} ms)`);
  assert.deepEqual(failures.slice(0, 5), [], `${failures.length} requests failed`);
  assert.ok(ok > 500, `only ${ok} requests`);
  assert.ok(max <= 1000, `a new upstream took ${max.toFixed(0)} ms to serve`);
  assert.ok(actions.some((a) => a.startsWith('kill')) && actions.some((a) => a.startsWith('remove')), `schedule ${actions.join(', ')}`);

  // The store goes away: the proxy keeps serving the last known upstreams and says so.
  await cluster.kill(cluster.members[0]!.name);
  await waitFor('status says the store is unreachable', async () => {
    const st = JSON.parse((await httpExchange(port, '/status')).body) as { store: { connected: boolean } };
    return !st.store.connected;
  }, 20_000, 100);
  for (let i = 0; i < 20; i++) assert.equal((await httpExchange(port, '/', { host: 'web.test' })).status, 200);
  assert.match(proxy.output(), /store unreachable, keeping last known upstreams/);
});
