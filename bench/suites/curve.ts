import { startCluster } from '../../lib/testing/store-cluster.ts';
import { runLoad } from '../load.ts';
import type { Progress } from '../progress.ts';
import type { BenchSettings, Row } from '../types.ts';
import { putRandomKeys } from '../workloads.ts';

/** PUT throughput on a single node as the number of connections grows. */
export async function curveSuite(settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const conns = settings.quick ? [1, 16] : [1, 4, 16, 64, 256, 1024];
  const rows: Row[] = conns.map((c) => ({ suite: 'connections', name: `PUT 64 B, ${c} conn`, lowerIsBetter: false, results: {} }));
  for (const kind of settings.kinds) {
    const cluster = await startCluster(kind, 1);
    try {
      for (const [i, c] of conns.entries()) {
        progress.start(`curve: PUT at ${c} connections on ${kind}`);
        const r = await runLoad({
          urls: cluster.clientUrls,
          connections: c,
          durationMs: settings.rowSeconds * 1000,
          // As the throughput suite: a member just started has not yet compiled its hot paths.
          warmupMs: settings.quick ? 200 : 1000,
          seed: settings.seed,
          next: putRandomKeys(64),
          onProgress: (f) => progress.update(f),
        });
        if (r.requests === 0) throw new Error(`no request succeeded: ${r.firstError}`);
        rows[i]!.results[kind] = { value: r.rps, unit: 'req/s', p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors };
        progress.done(`${Math.round(r.rps)} req/s`);
      }
    } finally {
      await cluster.stop();
    }
  }
  return rows;
}
