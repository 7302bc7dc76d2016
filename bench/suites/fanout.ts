import { Agent, request } from 'node:http';
import { startCluster, type StoreCluster, type StoreKind } from '../../lib/testing/store-cluster.ts';
import { medianRun, percentile } from '../load.ts';
import type { Progress } from '../progress.ts';
import type { BenchSettings, Measurement, Row } from '../types.ts';
import { waitFor } from '../../lib/testing/process.ts';

async function storeWatchers(url: string): Promise<number> {
  const res = await fetch(`${url}/v2/stats/store`);
  return ((await res.json()) as { watchers: number }).watchers;
}

/**
 * N long-poll watchers (`wait=true`) on one key, each on its own connection; one write; the
 * time from the write's start until each watcher has its response.
 */
async function fanout(url: string, watchers: number, progress: Progress): Promise<{ p50: number; p99: number; max: number }> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  let writeAt = 0;
  const arrivals: Promise<number>[] = [];
  for (let i = 0; i < watchers; i++) {
    arrivals.push(
      new Promise((resolve, reject) => {
        const req = request({ agent, host: base.hostname, port: base.port, path: '/v2/keys/fanout/key?wait=true' }, (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(performance.now() - writeAt));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
    );
  }
  await waitFor(`${watchers} watchers registered`, async () => (await storeWatchers(url)) >= watchers, 120_000, 100);
  progress.update(0.5);
  writeAt = performance.now();
  const res = await fetch(`${url}/v2/keys/fanout/key`, { method: 'PUT', body: new URLSearchParams({ value: 'go' }) });
  await res.arrayBuffer();
  const times = Float64Array.from(await Promise.all(arrivals)).sort();
  agent.destroy();
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times[times.length - 1]! };
}

/**
 * Each size runs several rounds (5, or 3 at 10,000 watchers) on both stores, up at once and in
 * alternating order, and reports the median round: one write is one sample, and the first
 * round of a process paid for warm-up.
 */
export async function fanoutSuite(settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const counts = settings.quick ? [1, 100] : [1, 100, 1000, 10000];
  const rows: Row[] = counts.map((n) => ({ suite: 'watch fan-out', name: `1 write → ${n} watchers, p99 delivery`, lowerIsBetter: true, results: {} }));
  const clusters = new Map<StoreKind, StoreCluster>();
  try {
    for (const kind of settings.kinds) clusters.set(kind, await startCluster(kind, 1));
    for (const [i, n] of counts.entries()) {
      const rounds = settings.quick ? 1 : n >= 10_000 ? 3 : 5;
      const runs = new Map<StoreKind, Measurement[]>(settings.kinds.map((k) => [k, []]));
      for (let round = 0; round < rounds; round++) {
        for (const kind of round % 2 === 0 ? settings.kinds : [...settings.kinds].reverse()) {
          progress.start(`fan-out to ${n} watchers on ${kind} (round ${round + 1}/${rounds})`);
          const r = await fanout(clusters.get(kind)!.clientUrls[0]!, n, progress);
          runs.get(kind)!.push({ value: r.p99, unit: 'ms', p50Ms: r.p50, p99Ms: r.p99 });
          progress.done(`p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(1)} ms`);
        }
      }
      for (const [kind, ms] of runs) rows[i]!.results[kind] = medianRun(ms);
    }
  } finally {
    for (const c of clusters.values()) await c.stop();
  }
  return rows;
}
