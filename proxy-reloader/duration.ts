import { ReloaderConfigError } from './errors.ts';

/** `250ms`, `2s`, `1.5s`, `1m` or a bare number of milliseconds -> milliseconds. */
export function parseDurationMs(raw: string | number, what: string): number {
  if (typeof raw === 'number') return raw;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(raw);
  if (!m) throw new ReloaderConfigError(`${what}: expected a duration like 250ms, 2s or 1m, got "${raw}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000);
}

/** consul-template's `--wait min:max` (or just `min`, meaning max = 4 × min). */
export interface WaitSpec {
  minMs: number;
  maxMs: number;
}

export function parseWait(raw: string, what = '--wait'): WaitSpec {
  const [a, b] = raw.split(':');
  const minMs = parseDurationMs(a ?? '', what);
  const maxMs = b === undefined ? minMs * 4 : parseDurationMs(b, what);
  if (maxMs < minMs) throw new ReloaderConfigError(`${what}: max (${maxMs} ms) must not be below min (${minMs} ms)`);
  return { minMs, maxMs };
}
