import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ratio, type Row } from './types.ts';
import { lineChart, type Series } from './svg-chart.ts';

function fmt(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A Markdown table: one line per row, berth and etcd side by side, and the berth/etcd ratio. */
export function markdownTable(rows: Row[]): string {
  const out = ['| suite | workload | berth | etcd | berth/etcd | berth p50 / p99 ms | etcd p50 / p99 ms |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const b = r.results.berth;
    const e = r.results.etcd;
    const q = ratio(r);
    const unit = b?.unit ?? e?.unit ?? '';
    const digits = unit === 'req/s' ? 0 : 1;
    const lat = (m: typeof b) => (m?.p50Ms !== undefined ? `${fmt(m.p50Ms, 2)} / ${fmt(m.p99Ms, 2)}` : '');
    out.push(`| ${r.suite} | ${r.name} | ${fmt(b?.value, digits)} ${unit} | ${fmt(e?.value, digits)} ${unit} | ${q === null ? '—' : q.toFixed(2) + (r.lowerIsBetter ? ' (lower is better)' : '')} | ${lat(b)} | ${lat(e)} |`);
  }
  return out.join('\n');
}

function seriesFor(rows: Row[], suite: string, x: (r: Row) => number): Series[] {
  const picked = rows.filter((r) => r.suite === suite);
  return (['berth', 'etcd'] as const).map((kind) => ({
    name: kind,
    points: picked.filter((r) => r.results[kind]).map((r) => ({ x: x(r), y: r.results[kind]!.value })),
  }));
}

const numberIn = (r: Row) => Number(/([\d,]+) (?:conn|watchers|keys)/.exec(r.name)?.[1]?.replace(/,/g, '') ?? NaN);

/** Writes results JSON and the charts; returns the files written. */
export async function writeReport(dir: string, rows: Row[], meta: Record<string, unknown>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const json = join(dir, 'results.json');
  await writeFile(json, JSON.stringify({ ...meta, rows }, null, 2));
  files.push(json);
  const charts: { file: string; title: string; suite: string; filter?: (r: Row) => boolean; yLabel: string; logX: boolean }[] = [
    { file: 'throughput-vs-connections.svg', title: 'PUT 64 B, single node: requests/s by connections', suite: 'connections', yLabel: 'req/s', logX: true },
    { file: 'watch-fanout.svg', title: 'Watch fan-out: p99 delivery (ms) by watchers', suite: 'watch fan-out', yLabel: 'ms', logX: true },
  ];
  for (const c of charts) {
    const series = seriesFor(rows, c.suite, numberIn);
    if (series.every((s) => s.points.length < 2)) continue;
    const p = join(dir, c.file);
    await writeFile(p, lineChart({ title: c.title, series, yLabel: c.yLabel, logX: c.logX }));
    files.push(p);
  }
  for (const [name, match] of [['rss-vs-keys.svg', /^RSS/], ['restart-vs-keys.svg', /^restart/]] as const) {
    const picked = rows.filter((r) => r.suite === 'scale' && match.test(r.name));
    const series = seriesFor(picked, 'scale', numberIn);
    if (series.every((s) => s.points.length < 2)) continue;
    const p = join(dir, name);
    await writeFile(p, lineChart({ title: name.startsWith('rss') ? 'RSS (MiB) by keys' : 'Restart to serving (ms) by keys', series, yLabel: name.startsWith('rss') ? 'MiB' : 'ms', logX: true }));
    files.push(p);
  }
  return files;
}
