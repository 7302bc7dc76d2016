/**
 * `npm run bench [-- --quick] [--only single,cluster,failover,fanout,scale,curve,proxy] [--stores berth,etcd] [--seconds S] [--rounds N]`
 * Runs berth and etcd 3.4 side by side on loopback with fsync on, and prints one table with the
 * berth/etcd ratios. Results (JSON and SVG charts) go to bench/results/ (or --out).
 */
import { resolve } from 'node:path';
import { parseConfig, formatHelp, type FlagSpec } from '../lib/config.ts';
import { ConfigError } from '../lib/errors.ts';
import { seedFromEnv } from '../lib/rand.ts';
import type { StoreKind } from '../lib/testing/store-cluster.ts';
import { Progress } from './progress.ts';
import { markdownTable, writeReport } from './report.ts';
import { curveSuite } from './suites/curve.ts';
import { failoverSuite } from './suites/failover.ts';
import { fanoutSuite } from './suites/fanout.ts';
import { proxySuite } from './suites/proxy.ts';
import { scaleSuite } from './suites/scale.ts';
import { throughputSuite } from './suites/throughput.ts';
import type { BenchSettings, Row } from './types.ts';

const SUITES = ['single', 'cluster', 'failover', 'fanout', 'curve', 'scale', 'proxy'] as const;
/** proxy compares proxies, not stores (its rows are not berth-vs-etcd): run it with --only proxy. */
const DEFAULT_SUITES = SUITES.filter((s) => s !== 'proxy');
type SuiteName = (typeof SUITES)[number];

const specs: FlagSpec[] = [
  { name: 'quick', type: 'bool', default: false, help: 'short rows and small sizes (a smoke test, under 2 minutes)', env: null },
  { name: 'only', type: 'list', default: [...DEFAULT_SUITES], help: `suites to run: ${SUITES.join(', ')} (proxy only when named)`, env: null },
  { name: 'stores', type: 'list', default: ['berth', 'etcd'], help: 'stores to measure', env: null },
  { name: 'seconds', type: 'number', default: undefined, min: 0.2, help: 'seconds per throughput row (default 10, 1 with --quick)', env: null },
  { name: 'rounds', type: 'number', default: undefined, min: 1, help: 'runs of each throughput, connections and proxy row per store, interleaved; the median is reported (default 3, 1 with --quick)', env: null },
  { name: 'out', type: 'string', default: 'bench/results', help: 'where results.json and the charts go', env: null },
];

interface Flags {
  quick: boolean;
  only: string[];
  stores: string[];
  seconds: number | undefined;
  rounds: number | undefined;
  out: string;
}

async function main(argv: string[]): Promise<number> {
  const { values, help } = parseConfig<Flags>(specs, argv, process.env, { allowPositionals: false });
  if (help) {
    console.log(formatHelp('usage: npm run bench -- [flags]', specs));
    return 0;
  }
  for (const s of values.only) if (!SUITES.includes(s as SuiteName)) throw new ConfigError('--only', `unknown suite "${s}"; one of ${SUITES.join(', ')}`);
  for (const s of values.stores) if (s !== 'berth' && s !== 'etcd') throw new ConfigError('--stores', `unknown store "${s}"; berth or etcd`);
  const settings: BenchSettings = {
    quick: values.quick,
    seed: seedFromEnv(),
    rowSeconds: values.seconds ?? (values.quick ? 1 : 10),
    rounds: Math.round(values.rounds ?? (values.quick ? 1 : 3)),
    kinds: values.stores as StoreKind[],
  };
  console.error(`bench seed ${settings.seed}${settings.quick ? ' (quick)' : ''}; rerun with SEED=${settings.seed}`);
  const progress = new Progress();
  const rows: Row[] = [];
  const started = Date.now();
  const run: Record<SuiteName, () => Promise<Row[]>> = {
    single: () => throughputSuite(1, settings, progress),
    cluster: () => throughputSuite(3, settings, progress),
    failover: () => failoverSuite(settings, progress),
    fanout: () => fanoutSuite(settings, progress),
    curve: () => curveSuite(settings, progress),
    scale: () => scaleSuite(settings, progress),
    proxy: () => proxySuite(settings, progress),
  };
  for (const name of SUITES) if (values.only.includes(name)) rows.push(...(await run[name]()));
  const table = markdownTable(rows);
  console.log(table);
  const files = await writeReport(resolve(values.out), rows, {
    date: new Date().toISOString(),
    seed: settings.seed,
    quick: settings.quick,
    rowSeconds: settings.rowSeconds,
    rounds: settings.rounds,
    seconds: (Date.now() - started) / 1000,
    node: process.version,
  });
  console.error(`wrote ${files.join(', ')} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? `bench: ${err.message}` : err);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
