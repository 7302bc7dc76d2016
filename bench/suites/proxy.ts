/**
 * Proxy suite: requests/s and p99 at 64 connections straight to the backends, through berth's
 * built-in proxy, and through nginx (1 worker) as proxy, same backends, same run; and the time
 * from a key write to the first request the new upstream serves through berth's proxy.
 * The berth column holds berth's proxy (or direct), the etcd column nginx. Each target runs
 * `--rounds` times, interleaved, and reports its median run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../lib/testing/ports.ts';
import { startProcess, waitFor, type TestProcess } from '../../lib/testing/process.ts';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { HttpKvBackend } from '../../store/client/http-backend.ts';
import { startBackend } from '../../proxy-reloader/testing/backends.ts';
import { httpExchange } from '../../proxy-reloader/testing/http-get.ts';
import { startNginx } from '../../proxy-reloader/testing/nginx.ts';
import { medianRun, percentile, runLoad } from '../load.ts';
import type { Progress } from '../progress.ts';
import type { BenchSettings, Measurement, Row } from '../types.ts';

const root = resolve(import.meta.dirname, '../..');
const CONNECTIONS = 64;

async function startBackends(count: number): Promise<{ proc: TestProcess; addresses: string[] }> {
  const proc = startProcess(process.execPath, ['--import', 'tsx', join(root, 'proxy-reloader/testing/backend-main.ts'), String(count)], { cwd: root });
  let addresses: string[] = [];
  await waitFor('backends', () => {
    const line = proc.output().split('\n').find((l) => l.startsWith('['));
    if (line) addresses = JSON.parse(line) as string[];
    return addresses.length === count;
  }, 20_000);
  return { proc, addresses };
}

async function load(urls: string[], settings: BenchSettings, progress: Progress): Promise<Measurement> {
  const r = await runLoad({ urls, connections: CONNECTIONS, durationMs: settings.rowSeconds * 1000, warmupMs: 500, seed: settings.seed, next: (_r, conn) => ({ method: 'GET', path: '/', urlIndex: conn }), onProgress: (f) => progress.update(f) });
  return { value: r.rps, unit: 'req/s', p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors, note: r.firstError };
}

/** Key write -> first request served by the new upstream, through the proxy on `port`, `rounds` times. */
async function joinLatency(kv: HttpKvBackend, port: number, rounds: number, tag: string): Promise<{ p50: number; max: number }> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await startBackend(`join-${tag}${i}`);
    let probing = true;
    const probes = Array.from({ length: 4 }, async () => {
      while (probing) await httpExchange(port, '/').catch(() => undefined);
    });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await kv.set(`/services/bench/join-${tag}${i}`, b.address);
    await waitFor('new upstream served', () => b.firstHitAt !== null, 10_000, 1);
    times.push(b.firstHitAt! - t0);
    probing = false;
    await Promise.all(probes);
    await kv.delete(`/services/bench/join-${tag}${i}`);
    await new Promise((r) => setTimeout(r, 300)); // let the removal settle (an nginx reload) before the next round
    await b.kill();
  }
  const sorted = Float64Array.from(times).sort();
  return { p50: percentile(sorted, 50), max: sorted[sorted.length - 1]! };
}

export async function proxySuite(settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const suite = 'proxy';
  const rows: Row[] = [
    { suite, name: `direct to 2 backends, ${CONNECTIONS} conn (berth column)`, lowerIsBetter: false, results: {} },
    { suite, name: `berth proxy vs nginx 1 worker (etcd column), ${CONNECTIONS} conn`, lowerIsBetter: false, results: {} },
    { suite, name: 'key write → new upstream serving, max of 10 (berth proxy vs nginx + template mode, wait 1ms:20ms)', lowerIsBetter: true, results: {} },
  ];
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-bench-'));
  const cluster = await startCluster('berth', 1);
  const kv = new HttpKvBackend({ endpoints: cluster.clientUrls });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    progress.start('proxy: starting backends, berth proxy and nginx');
    const backends = await startBackends(2);
    stops.push(() => backends.proc.stop());
    for (const [i, a] of backends.addresses.entries()) await kv.set(`/services/bench/b${i}`, a);
    const proxyPort = await freePort();
    const proxy = startProcess(process.execPath, [join(root, 'bin/berth'), 'proxy-reloader', '--store', cluster.clientUrls[0]!, '--listen', `127.0.0.1:${proxyPort}`, '--route', '/=/services/bench', '--log-level', 'warn']);
    stops.push(() => proxy.stop());
    await waitFor('berth proxy', async () => (await httpExchange(proxyPort, '/').catch(() => ({ status: 0 }))).status === 200, 20_000);
    // nginx's config comes from the same store through template mode (--once).
    const [nginxPort, probePort] = [await freePort(), await freePort()];
    const dest = join(dir, 'upstreams.conf');
    await writeFile(join(dir, 'reloader.yaml'), `store: [${cluster.clientUrls[0]}]\nwatch: [/services/bench]\ntemplates:\n  - source: ${join(root, 'templates/nginx-upstreams.conf.hbs')}\n    dest: ${dest}\n    vars: { listen: "127.0.0.1:${nginxPort}", balance: "round_robin", keepalive: ${CONNECTIONS} }\n`);
    const once = startProcess(process.execPath, [join(root, 'bin/berth'), 'proxy-reloader', '--config', join(dir, 'reloader.yaml'), '--once', '--log-level', 'warn']);
    if ((await once.exited) !== 0) throw new Error(`rendering the nginx config failed: ${once.output()}`);
    const nginx = await startNginx(dir, dest, { workers: 1, probePort });
    stops.push(() => nginx.process.stop('SIGQUIT'));
    progress.done('ready');

    // The machine is shared: interleave the three targets over several rounds, keep each one's median.
    const targets = { direct: backends.addresses.map((a) => `http://${a}`), berth: [`http://127.0.0.1:${proxyPort}`], nginx: [`http://127.0.0.1:${nginxPort}`] };
    const runs: Record<keyof typeof targets, Measurement[]> = { direct: [], berth: [], nginx: [] };
    const rounds = settings.rounds;
    for (let round = 1; round <= rounds; round++) {
      // berth and nginx swap places every round, so neither always runs right after the direct row.
      const order = round % 2 === 1 ? (['direct', 'berth', 'nginx'] as const) : (['direct', 'nginx', 'berth'] as const);
      for (const name of order) {
        progress.start(`proxy: ${name} (round ${round}/${rounds})`);
        const m = await load(targets[name], settings, progress);
        runs[name].push(m);
        progress.done(summary(m));
      }
    }
    rows[0]!.results.berth = medianRun(runs.direct);
    rows[1]!.results.berth = medianRun(runs.berth);
    rows[1]!.results.etcd = medianRun(runs.nginx);

    progress.start('proxy: key write → new upstream serving through berth proxy');
    const j = await joinLatency(kv, proxyPort, 10, 'berth');
    rows[2]!.results.berth = { value: j.max, unit: 'ms', p50Ms: j.p50, p99Ms: j.max };
    progress.done(`p50 ${j.p50.toFixed(1)} ms, max ${j.max.toFixed(1)} ms`);
    // The same through nginx, kept current by template mode (render, nginx -t, reload), as confd would.
    const live = join(dir, 'live.yaml');
    await writeFile(live, `store: [${cluster.clientUrls[0]}]\nwatch: [/services/bench]\nwait: 1ms:20ms\ntemplates:\n  - source: ${join(root, 'templates/nginx-upstreams.conf.hbs')}\n    dest: ${dest}\n    check: ${nginx.testCommand}\n    reload: ${nginx.reloadCommand}\n    vars: { listen: "127.0.0.1:${nginxPort}", balance: "round_robin", keepalive: ${CONNECTIONS} }\n`);
    const reloader = startProcess(process.execPath, [join(root, 'bin/berth'), 'proxy-reloader', '--config', live, '--log-level', 'info']);
    stops.push(() => reloader.stop());
    await waitFor('template mode running', () => reloader.output().includes('"msg":"running"'), 20_000);
    progress.start('proxy: key write → new upstream serving through nginx (template mode)');
    const n = await joinLatency(kv, nginxPort, 10, 'nginx');
    rows[2]!.results.etcd = { value: n.max, unit: 'ms', p50Ms: n.p50, p99Ms: n.max };
    progress.done(`p50 ${n.p50.toFixed(1)} ms, max ${n.max.toFixed(1)} ms`);
  } finally {
    for (const stop of stops.reverse()) await stop();
    await kv.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

function summary(m: Measurement): string {
  return `${Math.round(m.value)} req/s, p50 ${m.p50Ms?.toFixed(2)} ms, p99 ${m.p99Ms?.toFixed(2)} ms${m.errors ? `, ${m.errors} errors (${m.note})` : ''}`;
}
