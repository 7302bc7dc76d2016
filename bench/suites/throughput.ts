import { startCluster, type StoreCluster, type StoreKind } from '../../lib/testing/store-cluster.ts';
import { medianRun, runLoad } from '../load.ts';
import type { Progress } from '../progress.ts';
import type { BenchSettings, Measurement, Row } from '../types.ts';
import { compareAndSwap, getRandomKeys, preload, putRandomKeys, setupCas, type Workload } from '../workloads.ts';

export interface RowSpec {
  name: string;
  connections: number;
  workload: () => Workload;
  /** 'leader': every connection to the leader; 'spread': round-robin over all members. */
  target: 'leader' | 'spread';
  setup?: (url: string, connections: number) => Promise<void>;
}

const PRELOADED_KEYS = 1000;

/** PUTs of 64 B to the leader over `connections` connections: single-node rows and the connections curve. */
export function putRow(connections: number): RowSpec {
  return { name: `PUT 64 B, ${connections} conn`, connections, workload: () => putRandomKeys(64), target: 'leader' };
}

function singleNodeRows(quick: boolean): RowSpec[] {
  const putConns = quick ? [1, 64] : [1, 16, 64, 256];
  return [
    ...putConns.map(putRow),
    { name: 'PUT 1 KiB, 64 conn', connections: 64, workload: () => putRandomKeys(1024), target: 'leader' },
    { name: 'GET, 64 conn', connections: 64, workload: () => getRandomKeys({ quorum: false, keys: PRELOADED_KEYS }), target: 'leader' },
    { name: 'GET quorum=true, 64 conn', connections: 64, workload: () => getRandomKeys({ quorum: true, keys: PRELOADED_KEYS }), target: 'leader' },
    { name: 'CAS, 64 conn', connections: 64, workload: compareAndSwap, target: 'leader', setup: setupCas },
  ];
}

function clusterRows(quick: boolean): RowSpec[] {
  const conns = quick ? [64] : [16, 64, 256];
  return [
    ...conns.map((c) => ({ name: `PUT 64 B, ${c} conn to leader`, connections: c, workload: () => putRandomKeys(64), target: 'leader' as const })),
    ...conns.map((c) => ({ name: `PUT 64 B, ${c} conn spread`, connections: c, workload: () => putRandomKeys(64), target: 'spread' as const })),
    { name: 'GET quorum=true, 64 conn spread', connections: 64, workload: () => getRandomKeys({ quorum: true, keys: PRELOADED_KEYS }), target: 'spread' },
    { name: 'GET, 64 conn spread', connections: 64, workload: () => getRandomKeys({ quorum: false, keys: PRELOADED_KEYS }), target: 'spread' },
  ];
}

async function measureRow(cluster: StoreCluster, spec: RowSpec, settings: BenchSettings, progress: Progress): Promise<Measurement> {
  const leader = await cluster.leaderUrl();
  await spec.setup?.(leader, spec.connections);
  const urls = spec.target === 'leader' ? [leader] : cluster.clientUrls;
  const result = await runLoad({
    urls,
    connections: spec.connections,
    durationMs: settings.rowSeconds * 1000,
    warmupMs: settings.quick ? 200 : 1000,
    seed: settings.seed,
    next: spec.workload(),
    onProgress: (f) => progress.update(f),
  });
  if (result.requests === 0) throw new Error(`no request succeeded: ${result.firstError ?? 'unknown error'}`);
  return { value: result.rps, unit: 'req/s', p50Ms: result.p50Ms, p99Ms: result.p99Ms, errors: result.errors, note: result.firstError };
}

/**
 * One cluster per store for the whole suite, all up at once; each row runs on every store in
 * turn, `rounds` times, the order swapped from run to run, so a change in the machine's load
 * during the run falls on both sides instead of on whichever store happened to run later. Each
 * store's median run is reported: one run of a few seconds moves by a tenth from run to run.
 */
export async function throughputSuite(size: number, settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const specs = size === 1 ? singleNodeRows(settings.quick) : clusterRows(settings.quick);
  return interleavedRows(size === 1 ? 'single node' : `${size} nodes`, size, specs, settings, progress);
}

/** Rows measured as described above: one cluster of `size` per store, rounds interleaved, medians reported. */
export async function interleavedRows(suite: string, size: number, specs: RowSpec[], settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const rows: Row[] = specs.map((spec) => ({ suite, name: spec.name, lowerIsBetter: false, results: {} }));
  const clusters = new Map<StoreKind, StoreCluster>();
  try {
    for (const kind of settings.kinds) {
      progress.start(`${suite}: starting ${kind}`);
      const cluster = await startCluster(kind, size);
      clusters.set(kind, cluster);
      await preload(await cluster.leaderUrl(), PRELOADED_KEYS, 64);
      progress.done('ready');
    }
    let turn = 0;
    for (const [i, spec] of specs.entries()) {
      const runs = new Map<StoreKind, Measurement[]>(settings.kinds.map((k) => [k, []]));
      for (let round = 1; round <= settings.rounds; round++) {
        const order = turn++ % 2 === 0 ? settings.kinds : [...settings.kinds].reverse();
        for (const kind of order) {
          const of = settings.rounds > 1 ? ` (round ${round}/${settings.rounds})` : '';
          progress.start(`${suite}: ${spec.name} on ${kind}${of}`);
          const m = await measureRow(clusters.get(kind)!, spec, settings, progress);
          runs.get(kind)!.push(m);
          progress.done(`${Math.round(m.value)} req/s, p99 ${m.p99Ms?.toFixed(2)} ms${m.errors ? `, ${m.errors} errors` : ''}`);
        }
      }
      for (const [kind, ms] of runs) rows[i]!.results[kind] = medianRun(ms);
    }
  } finally {
    await Promise.all([...clusters.values()].map((c) => c.stop()));
  }
  return rows;
}
