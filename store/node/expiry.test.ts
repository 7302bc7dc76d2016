import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { startCluster } from '../../lib/testing/store-cluster.ts';

const seed = seedFromEnv();

/** Sets `key` with a 1 s TTL and resolves with the ms from sending the PUT to seeing the expire event. */
async function ttlLifetime(url: string, key: string): Promise<number> {
  const sent = performance.now();
  const res = await fetch(`${url}/v2/keys${key}`, { method: 'PUT', body: new URLSearchParams({ value: 'v', ttl: '1' }) });
  const { node } = (await res.json()) as { node: { modifiedIndex: number } };
  const ev = (await (await fetch(`${url}/v2/keys${key}?wait=true&waitIndex=${node.modifiedIndex + 1}`)).json()) as { action: string };
  assert.equal(ev.action, 'expire');
  return performance.now() - sent;
}

test(`keys expire at their TTL, not up to a 500 ms sync later (seed ${seed})`, { timeout: 60_000 }, async (t) => {
  console.log(`seed ${seed}; rerun: SEED=${seed} npm test -- store/node/expiry.test.ts`);
  const rand = new Rand(seed);
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  // Ten keys set at scattered moments: with syncs only every 500 ms, each would outlive its TTL
  // by 0-500 ms, and all ten landing under +250 ms would be a 1-in-1000 chance.
  const lifetimes = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, rand.int(700)));
      return ttlLifetime(url, `/expiry/k${i}`);
    }),
  );
  console.log(`lifetimes of 1 s TTL keys (ms): ${lifetimes.map((x) => Math.round(x)).join(' ')}`);
  for (const ms of lifetimes) {
    assert.ok(ms >= 990, `a key expired after ${Math.round(ms)} ms, before its 1 s TTL`);
    assert.ok(ms <= 1250, `a key expired ${Math.round(ms)} ms after it was set: more than 250 ms late`);
  }
});
