/**
 * The whole toolchain, end to end, as an operator runs it: a 3-member berth cluster in
 * containers, `berth registrator` on the host publishing busybox web containers (their own
 * addresses over docker0, --internal), and `berth proxy-reloader` twice: as the built-in proxy
 * and driving a real nginx through the nginx template. Backends start, die and arrive while
 * clients send requests through both proxies.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { dockerClient, ensureBusyboxImage, removeContainers, startBusybox, type BusyboxContainer } from '../lib/testing/docker.ts';
import { freePort } from '../lib/testing/ports.ts';
import { startProcess, waitFor, type TestProcess } from '../lib/testing/process.ts';
import { requireDocker, requireNginx } from '../lib/testing/requirements.ts';
import { httpExchange } from '../proxy-reloader/testing/http-get.ts';
import { startNginx } from '../proxy-reloader/testing/nginx.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';
import { BerthCluster } from './berth-cluster.ts';
import { recordScenario } from './summary.ts';
import { TEST_CLUSTER_OPTIONS, TEST_PREFIX } from './test-options.ts';

const berthBin = resolve(import.meta.dirname, '../bin/berth');
const PREFIX = `${TEST_PREFIX}e2e-`;
const LABEL = 'berth-it.e2e';
const SERVICE = 'e2e-web';
const TTL_SECONDS = 4;

/** A proxy as the test reaches it: the port on 127.0.0.1 and the Host header it routes on. */
interface ProxyTarget {
  name: string;
  port: number;
  host: string;
}

/** The part of the built-in proxy's /status this test reads. */
interface ProxyStatus {
  routes: { upstreams: { address: string; draining: boolean }[] }[];
}

/** Which backend answered (each busybox page says "hello from <container name>"), or why none did. */
async function askProxy(p: ProxyTarget): Promise<{ who: string } | { failure: string }> {
  try {
    const r = await httpExchange(p.port, '/', { host: p.host, timeoutMs: 5000 });
    return r.status === 200 ? { who: r.body.trim().replace(/^hello from /, '') } : { failure: `${r.status} ${r.body.trim()}` };
  } catch (e) {
    return { failure: (e as Error).message };
  }
}

/** Clients sending requests through a proxy until stopped; counts answers per backend and failures, and the slowest answer. */
function startTraffic(p: ProxyTarget, clients: number) {
  const counts = new Map<string, number>();
  const failures: string[] = [];
  let slowestMs = 0;
  let stopped = false;
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped) {
      const sentAt = performance.now();
      const answer = await askProxy(p);
      if ('failure' in answer) failures.push(answer.failure);
      else counts.set(answer.who, (counts.get(answer.who) ?? 0) + 1);
      slowestMs = Math.max(slowestMs, performance.now() - sentAt);
    }
  });
  return {
    counts,
    failures: () => failures.length,
    /** The first few failures, each as the client saw it. */
    why: () => failures.slice(0, 5).join('; '),
    slowestMs: () => slowestMs,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Milliseconds from now until `who` answers through the proxy. */
async function timeUntilServes(p: ProxyTarget, who: string, startedAt: number, timeoutMs = 10_000): Promise<number> {
  await waitFor(`${who} to answer through ${p.name}`, async () => {
    const answer = await askProxy(p);
    return 'who' in answer && answer.who === who;
  }, timeoutMs, 5);
  return performance.now() - startedAt;
}

async function startBackend(name: string): Promise<BusyboxContainer> {
  return startBusybox({ name: `${PREFIX}${name}`, expose: [80], env: { SERVICE_NAME: SERVICE }, labels: { [LABEL]: '1' } });
}

test('end to end: cluster in containers + registrator + built-in proxy + nginx follow backends as they come and go', { timeout: 300_000 }, async (t) => {
  if (!requireDocker(t) || !requireNginx(t)) return;
  await removeContainers(PREFIX);
  const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
  const processes: TestProcess[] = [];
  const cluster = await new BerthCluster(3, TEST_CLUSTER_OPTIONS).start();
  t.after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await removeContainers(PREFIX);
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await ensureBusyboxImage();
  const endpoints = cluster.endpoints;
  const kv = new HttpKvBackend({ endpoints });
  t.after(() => kv.close());

  // The registrator: the members' addresses, comma-separated, fail over; the path is the prefix.
  const storeUrl = `http://${endpoints.map((e) => new URL(e).host).join(',')}/services`;
  const registrator = startProcess(process.execPath, [berthBin, 'registrator', '--internal', '--ttl', String(TTL_SECONDS), '--ttl-refresh', '1', '--require-label', LABEL, '--host-id', 'e2e-host', storeUrl]);
  processes.push(registrator);

  // The built-in proxy.
  const builtin: ProxyTarget = { name: 'built-in proxy', port: await freePort(), host: 'anything' };
  processes.push(startProcess(process.execPath, [berthBin, 'proxy-reloader', '--store', endpoints.join(','), '--listen', `127.0.0.1:${builtin.port}`, '--route', `/=/services/${SERVICE}`]));

  // nginx, configured by the proxy-reloader's template mode.
  const dest = join(dir, 'upstreams.conf');
  await writeFile(dest, '# empty until the first render\n');
  const nginxTarget: ProxyTarget = { name: 'nginx', port: await freePort(), host: SERVICE };
  const nginx = await startNginx(dir, dest, { probePort: await freePort() });
  t.after(() => nginx.process.stop('SIGQUIT'));
  const template = join(dir, 'nginx.hbs');
  await copyFile(resolve(import.meta.dirname, '../templates/nginx-upstreams.conf.hbs'), template);
  const config = join(dir, 'reloader.yaml');
  await writeFile(
    config,
    `store: [${endpoints.join(', ')}]
wait: 50ms:500ms
templates:
  - source: ${template}
    dest: ${dest}
    check: ${nginx.testCommand}
    reload: ${nginx.reloadCommand}
    vars: { listen: "127.0.0.1:${nginxTarget.port}", balance: round_robin }
`,
  );
  processes.push(startProcess(process.execPath, [berthBin, 'proxy-reloader', '--config', config]));
  const proxies = [builtin, nginxTarget];

  // Three backends: traffic reaches every one through both proxies.
  const backends = new Map<string, BusyboxContainer>();
  for (const name of ['web1', 'web2', 'web3']) backends.set(name, await startBackend(name));
  for (const p of proxies) {
    const seen = new Set<string>();
    await waitFor(`all three backends through ${p.name}`, async () => {
      const answer = await askProxy(p);
      if ('who' in answer) seen.add(answer.who);
      return seen.size === 3;
    }, 30_000, 5);
  }

  // Kill one under traffic: its key goes, both proxies stop sending to it, and the built-in
  // proxy fails no request (GETs to the dead address are retried on a live one).
  const traffic = proxies.map((p) => startTraffic(p, 4));
  await new Promise((r) => setTimeout(r, 500));
  const victim = backends.get('web2')!;
  const killedAt = performance.now();
  await dockerClient().getContainer(victim.id).kill();
  const key = `/services/${SERVICE}/e2e-host:${victim.name}:80`;
  await waitFor(`${key} to leave the store`, async () => {
    try {
      await kv.get(key);
      return false;
    } catch {
      return true;
    }
  }, TTL_SECONDS * 1000, 10);
  const keyGoneMs = performance.now() - killedAt;
  await waitFor('nginx config without the dead backend', async () => !(await readFile(dest, 'utf8')).includes(`server ${victim.ip}:80`), TTL_SECONDS * 1000, 20);
  const nginxDroppedMs = performance.now() - killedAt;
  await waitFor('the built-in proxy to take the dead backend out of rotation', async () => {
    const status = JSON.parse((await httpExchange(builtin.port, '/status', { timeoutMs: 2000 })).body) as ProxyStatus;
    return !status.routes.some((r) => r.upstreams.some((u) => u.address === `${victim.ip}:80` && !u.draining));
  }, TTL_SECONDS * 1000, 20);
  const builtinDroppedMs = performance.now() - killedAt;
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all(traffic.map((tr) => tr.stop()));
  for (const [i, tr] of traffic.entries()) {
    for (const name of ['web1', 'web3']) assert.ok((tr.counts.get(`${PREFIX}${name}`) ?? 0) > 0, `${proxies[i]!.name} sent nothing to ${name}`);
  }
  const served = traffic.map((tr) => [...tr.counts.values()].reduce((a, b) => a + b, 0));
  assert.equal(traffic[0]!.failures(), 0, `the built-in proxy failed requests while healthy backends remained: ${traffic[0]!.why()} (slowest answer ${traffic[0]!.slowestMs().toFixed(0)} ms)`);

  // A new backend receives traffic within 1 s of starting, through both proxies.
  const startedAt = performance.now();
  const web4 = await startBackend('web4');
  const arrival = await Promise.all(proxies.map((p) => timeUntilServes(p, web4.name, startedAt)));
  for (const [i, ms] of arrival.entries()) assert.ok(ms <= 1000, `${proxies[i]!.name}: the new backend served only after ${ms.toFixed(0)} ms`);

  const notes = `killed backend's key gone after ${keyGoneMs.toFixed(0)} ms, out of rotation after ${builtinDroppedMs.toFixed(0)} ms (built-in) / ${nginxDroppedMs.toFixed(0)} ms (nginx config; TTL ${TTL_SECONDS} s); new backend served after ${arrival[0]!.toFixed(0)} ms (built-in) / ${arrival[1]!.toFixed(0)} ms (nginx); failed requests during the kill: built-in ${traffic[0]!.failures()}, nginx ${traffic[1]!.failures()}; slowest request: built-in ${traffic[0]!.slowestMs().toFixed(0)} ms, nginx ${traffic[1]!.slowestMs().toFixed(0)} ms`;
  console.log(`toolchain: ${notes}`);
  recordScenario({
    scenario: 'toolchain: registrator + built-in proxy + nginx',
    seed: null,
    faults: ['backend SIGKILL', 'backend added'],
    operations: served[0]! + served[1]!,
    violations: traffic[0]!.failures(),
    lostWrites: 0,
    notes,
  });
});
