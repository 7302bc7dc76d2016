import type { StoreKind } from '../lib/testing/store-cluster.ts';

/** One measured figure for one store. `value` is in `unit`; higher is better unless `lowerIsBetter`. */
export interface Measurement {
  value: number;
  unit: string;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  note?: string;
}

/** A row of the report: the same workload on berth and on etcd, run back to back. */
export interface Row {
  suite: string;
  name: string;
  lowerIsBetter: boolean;
  results: Partial<Record<StoreKind, Measurement>>;
}

export interface BenchSettings {
  quick: boolean;
  seed: number;
  /** Seconds each throughput row runs. */
  rowSeconds: number;
  /** How many times each throughput row runs on each store (interleaved); the median run is reported. */
  rounds: number;
  kinds: StoreKind[];
}

/** berth / etcd for "higher is better" rows; etcd / berth would hide a regression, so always berth / etcd. */
export function ratio(row: Row): number | null {
  const b = row.results.berth?.value;
  const e = row.results.etcd?.value;
  if (b === undefined || e === undefined || e === 0 || !Number.isFinite(b) || !Number.isFinite(e)) return null;
  return b / e;
}
