/** A dependency-free SVG line chart, enough for the README's scale curves. */
export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function lineChart(opts: { title: string; series: Series[]; yLabel: string; logX: boolean; width?: number; height?: number }): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 360;
  const m = { l: 70, r: 110, t: 36, b: 44 };
  const all = opts.series.flatMap((s) => s.points);
  const fx = (x: number) => (opts.logX ? Math.log10(Math.max(x, 1)) : x);
  const xs = all.map((p) => fx(p.x));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const y1 = Math.max(...all.map((p) => p.y)) * 1.1 || 1;
  const px = (x: number) => m.l + ((fx(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - (y / y1) * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(opts.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (y1 / 4) * i;
    parts.push(`<text x="${m.l - 6}" y="${py(y) + 4}" text-anchor="end">${esc(y >= 100 ? Math.round(y).toLocaleString('en') : y.toFixed(1))}</text>`);
    parts.push(`<line x1="${m.l}" y1="${py(y)}" x2="${W - m.r}" y2="${py(y)}" stroke="#eee"/>`);
  }
  const ticks = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  for (const t of ticks) parts.push(`<text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle">${esc(t.toLocaleString('en'))}</text>`);
  parts.push(`<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(`<text x="${W - m.r + 10}" y="${m.t + 16 * (i + 1)}" fill="${color}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
