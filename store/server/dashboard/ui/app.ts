// The dashboard's browser code. Bundled by esbuild when the server starts (no CDN, works
// offline). Data: /dashboard/api/stream (one cluster sample a second, as server-sent events,
// gathered by the serving member from every member, so a follower shows the leader's view)
// and the v2 keys API for the browser and the live watch (keys.ts), with the signed-in user's
// credentials (session.ts).
import { clearKeys, refreshTree, setupKeyForm, setupWatch } from './keys.ts';
import { currentSession, onSessionChange, setupSessionControls, startSession } from './session.ts';

interface MemberView {
  id: string;
  name: string;
  clientURLs: string[];
  reachable: boolean;
  state?: string;
  term?: number;
  commitIndex?: number;
  appliedIndex?: number;
  version?: string;
}
interface FollowerView {
  id: string;
  name: string;
  latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number };
  counts: { success: number; fail: number };
}
interface ClusterSample {
  time: number;
  servedBy: string;
  leaderId: string | null;
  members: MemberView[];
  followers: FollowerView[];
  store: { writes: number; reads: number; watchers: number } | null;
  fsync: { sum: number; count: number } | null;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

// ---- latency history and chart --------------------------------------------------------------

const HISTORY_MS = 5 * 60_000;
const history = new Map<string, { name: string; points: { t: number; ms: number }[] }>();
const COLORS = ['#2f6fde', '#d9480f', '#2d8a4e', '#7048e8', '#c2255c', '#0b7285'];

function p99(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)]!;
}

function recordLatency(sample: ClusterSample): void {
  for (const f of sample.followers) {
    const h = history.get(f.id) ?? { name: f.name, points: [] };
    h.name = f.name;
    h.points.push({ t: sample.time, ms: f.latency.current });
    while (h.points.length > 0 && h.points[0]!.t < sample.time - HISTORY_MS) h.points.shift();
    history.set(f.id, h);
  }
  for (const id of [...history.keys()]) if (!sample.followers.some((f) => f.id === id) && sample.leaderId !== null) history.delete(id);
}

function drawChart(): void {
  const canvas = $<HTMLCanvasElement>('latency-chart');
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const all = [...history.values()].flatMap((h) => h.points);
  canvas.dataset.points = String(all.length);
  canvas.dataset.series = String([...history.values()].filter((h) => h.points.length > 0).length);
  if (all.length === 0) return;
  const now = Math.max(...all.map((p) => p.t));
  const maxMs = Math.max(1, ...all.map((p) => p.ms)) * 1.15;
  const x = (t: number) => 40 + ((t - (now - HISTORY_MS)) / HISTORY_MS) * (W - 50);
  const y = (ms: number) => H - 20 - (ms / maxMs) * (H - 30);
  ctx.strokeStyle = '#ddd';
  ctx.fillStyle = '#6b7385';
  ctx.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const v = (maxMs / 4) * i;
    ctx.beginPath();
    ctx.moveTo(40, y(v));
    ctx.lineTo(W - 10, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(v < 10 ? 1 : 0) + ' ms', 2, y(v) + 4);
  }
  const legend: string[] = [];
  [...history.entries()].forEach(([, h], i) => {
    const color = COLORS[i % COLORS.length]!;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    h.points.forEach((p, j) => (j === 0 ? ctx.moveTo(x(p.t), y(p.ms)) : ctx.lineTo(x(p.t), y(p.ms))));
    ctx.stroke();
    const values = h.points.map((p) => p.ms);
    const avg = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    legend.push(`<span style="color:${color}">■ ${escapeHtml(h.name)}: current ${fmtMs(values.at(-1))}, avg ${fmtMs(avg)}, p99 ${fmtMs(p99(values))}</span>`);
  });
  $('latency-legend').innerHTML = legend.join('');
}

const fmtMs = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)} ms`);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- cluster panel ---------------------------------------------------------------------------

let previous: ClusterSample | null = null;

function render(sample: ClusterSample): void {
  $('served-by').textContent = `served by ${sample.servedBy}`;
  const leader = sample.members.find((m) => m.id === sample.leaderId);
  $('cluster-summary').textContent = leader ? `leader ${leader.name}, term ${leader.term ?? '?'}` : 'no leader';
  $('cluster-summary').dataset.leader = leader?.name ?? '';
  const rows = sample.members.map((m) => {
    const cls = [m.id === sample.leaderId ? 'leader' : '', m.reachable ? '' : 'down'].join(' ');
    return `<tr class="${cls}" data-name="${escapeHtml(m.name)}"><td>${escapeHtml(m.name)}</td><td>${m.id}</td><td>${m.reachable ? escapeHtml(m.state ?? '') : 'unreachable'}</td><td>${m.term ?? ''}</td><td>${m.commitIndex ?? ''}</td><td>${m.appliedIndex ?? ''}</td><td>${escapeHtml(m.version ?? '')}</td><td>${m.clientURLs.map(escapeHtml).join(', ')}</td></tr>`;
  });
  $('members').querySelector('tbody')!.innerHTML = rows.join('');
  $('leader-name').textContent = leader ? `from ${leader.name}` : '';

  recordLatency(sample);
  const currents = sample.followers.map((f) => f.latency.current).sort((a, b) => a - b);
  const median = currents.length ? currents[Math.floor(currents.length / 2)]! : 0;
  const prevFollowers = new Map(previous?.followers.map((f) => [f.id, f]) ?? []);
  $('followers').innerHTML = sample.followers
    .map((f) => {
      const before = prevFollowers.get(f.id);
      const failing = before !== undefined && f.counts.fail > before.counts.fail;
      // Lagging: failing sends, or much slower than the typical follower.
      const lagging = failing || (currents.length > 1 && f.latency.current > Math.max(3 * median, median + 5));
      return `<div class="follower${lagging ? ' lagging' : ''}" data-follower="${escapeHtml(f.name)}"><b>${escapeHtml(f.name)}</b>current ${fmtMs(f.latency.current)} · avg ${fmtMs(f.latency.average)} · max ${fmtMs(f.latency.maximum)}<br>sent ok ${f.counts.success} · failed ${f.counts.fail}</div>`;
    })
    .join('');
  drawChart();

  if (previous && sample.store && previous.store) {
    const dt = (sample.time - previous.time) / 1000;
    if (dt > 0) {
      $('writes-per-s').textContent = Math.max(0, (sample.store.writes - previous.store.writes) / dt).toFixed(0);
      $('reads-per-s').textContent = Math.max(0, (sample.store.reads - previous.store.reads) / dt).toFixed(0);
    }
  }
  if (sample.store) $('watchers').textContent = String(sample.store.watchers);
  if (previous?.fsync && sample.fsync) {
    const n = sample.fsync.count - previous.fsync.count;
    $('fsync-ms').textContent = n > 0 ? (((sample.fsync.sum - previous.fsync.sum) / n) * 1000).toFixed(2) : '–';
  }
  previous = sample;
}

async function followStream(): Promise<void> {
  const badge = $('connection');
  for (;;) {
    try {
      // Cluster stats only (no keys): open like etcd's /v2/stats, so no credentials are sent.
      const res = await fetch('/dashboard/api/stream');
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
      badge.textContent = 'live';
      badge.className = 'badge ok';
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) render(JSON.parse(data) as ClusterSample);
        }
      }
    } catch {
      /* the member went away: try again below */
    }
    badge.textContent = 'reconnecting…';
    badge.className = 'badge bad';
    await new Promise((r) => setTimeout(r, 1000));
  }
}

setupKeyForm();
setupWatch();
setupSessionControls();
// undefined: nobody shown yet; null: auth off or guest.
let shownUser: string | null | undefined;
onSessionChange(() => {
  // Signing out clears the panels; another user reloads the tree; the same user signing in
  // again (a changed password) keeps what they were looking at.
  const session = currentSession();
  if (!session) {
    shownUser = undefined;
    return clearKeys();
  }
  if (session.user === shownUser) return;
  shownUser = session.user;
  void refreshTree();
});
void startSession();
void followStream();
