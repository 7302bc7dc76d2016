import { Rand } from '../lib/rand.ts';
import { LoadConnection } from './load-connection.ts';
import type { Measurement } from './types.ts';

/**
 * A closed-loop HTTP load generator: `connections` keep-alive sockets, each with one request
 * in flight at a time, for `durationMs`. Latencies are recorded per request (microsecond
 * resolution) so percentiles are exact, not bucketed.
 */
export interface LoadRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, e.g. /v2/keys/bench/17?quorum=true */
  path: string;
  /** A urlencoded form (ASCII), sent as such. */
  body?: string;
  /** Which of the target's URLs to send to (for spreading load over a cluster). */
  urlIndex?: number;
}

export interface LoadOptions {
  urls: string[];
  connections: number;
  durationMs: number;
  warmupMs?: number;
  seed: number;
  /** Makes the next request for connection `conn`. */
  next(rand: Rand, conn: number): LoadRequest;
  /** Status codes that count as success (default 2xx). */
  ok?: (status: number) => boolean;
  onProgress?: (doneFraction: number) => void;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** The first error's text, to say why a row failed. */
  firstError?: string;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * The median of repeated runs of one row (by value), noting every run's value. Errors are
 * counted over all runs, so a failing run cannot hide behind a clean median.
 */
export function medianRun(runs: Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.value - b.value);
  const m = sorted[Math.floor(sorted.length / 2)]!;
  if (runs.length === 1) return m;
  const digits = m.unit === 'ms' ? 1 : 0;
  const errors = runs.reduce((n, r) => n + (r.errors ?? 0), 0);
  const firstError = runs.find((r) => r.errors && r.note)?.note;
  const of = `median of ${runs.length}: ${runs.map((x) => x.value.toFixed(digits)).join(', ')} ${m.unit}`;
  return { ...m, errors, note: firstError ? `${of}; ${firstError}` : of };
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const bases = opts.urls.map((u) => new URL(u));
  const connections: LoadConnection[] = [];
  const ok = opts.ok ?? ((s: number) => s >= 200 && s < 300);
  const rand = new Rand(opts.seed);
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const warmupEnd = performance.now() + (opts.warmupMs ?? 0);
  const end = warmupEnd + opts.durationMs;
  let measuring = opts.warmupMs ? false : true;

  const loop = async (conn: number, r: Rand) => {
    // One connection per target URL (each opens its socket at its first request).
    const mine = bases.map((b) => new LoadConnection(b));
    connections.push(...mine);
    while (true) {
      const now = performance.now();
      if (now >= end) return;
      if (!measuring && now >= warmupEnd) measuring = true;
      const req = opts.next(r, conn);
      const idx = (req.urlIndex ?? conn) % bases.length;
      const t0 = performance.now();
      let status = 0;
      try {
        status = await mine[idx]!.request(req.method, req.path, req.body);
      } catch (e) {
        firstError ??= String(e);
      }
      const t1 = performance.now();
      if (t0 < warmupEnd) continue;
      if (!ok(status)) {
        errors++;
        firstError ??= `HTTP ${status} for ${req.method} ${req.path}`;
        continue;
      }
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = t1 - t0;
    }
  };

  const timer = opts.onProgress
    ? setInterval(() => opts.onProgress!(Math.min(1, 1 - (end - performance.now()) / (end - (warmupEnd - (opts.warmupMs ?? 0))))), 250)
    : undefined;
  const measuredFrom = Math.max(performance.now(), warmupEnd);
  await Promise.all(Array.from({ length: opts.connections }, (_, c) => loop(c, rand.fork())));
  const elapsedMs = performance.now() - measuredFrom;
  if (timer) clearInterval(timer);
  for (const c of connections) c.close();
  const sorted = latencies.subarray(0, count).sort();
  return {
    requests: count,
    errors,
    rps: count / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    firstError,
  };
}
