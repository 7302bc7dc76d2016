/**
 * The real-Docker suite, run the same way against berth and against real etcd 3.4: containers
 * built from the local busybox image, a `berth registrator` child process, and reads of the store
 * over its v2 API. Only containers labelled with this run's id are registered, so containers of
 * other helpers on the shared engine never enter the test's store.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { HttpKvBackend } from '../../store/client/http-backend.ts';
import { createNetwork, dockerClient, ensureBusyboxImage, removeContainers, removeNetworks, runningContainerNames, startBusybox, type BusyboxContainer, type BusyboxOptions } from '../../lib/testing/docker.ts';
import type { TestProcess } from '../../lib/testing/process.ts';
import { requireDocker, requireEtcd } from '../../lib/testing/requirements.ts';
import type { StoreKind } from '../../lib/testing/store-cluster.ts';
import { startDockerRelay } from './docker-relay.ts';
import { startRegistrator, startTestStore, storeEntries, timeUntil, type TestStore } from './harness.ts';

const TTL_SECONDS = 3;

interface SuiteContext {
  kind: StoreKind;
  store: TestStore;
  prefix: string;
  hostId: string;
  label: string;
  /** The flags every registrator of this suite gets. */
  baseArgs: string[];
}

function hasKey(ctx: SuiteContext, c: { name: string }, value?: string) {
  return async () => {
    const v = (await storeEntries(ctx.store.url)).get(`berth-test-busybox/${ctx.hostId}:${c.name}:80`);
    return value === undefined ? v !== undefined : v === value;
  };
}

function noKey(ctx: SuiteContext, c: { name: string }) {
  return async () => !(await hasKey(ctx, c)());
}

async function startLabelled(ctx: SuiteContext, name: string, opts: Partial<BusyboxOptions> = {}): Promise<BusyboxContainer> {
  return startBusybox({ name: `${ctx.prefix}${name}`, publish: [80], ...opts, labels: { 'berth-reg.run': ctx.label, ...opts.labels } });
}

/** Registers the suite for one store kind; `node --test` runs it as one test with subtests. */
export function registratorDockerSuite(kind: StoreKind): void {
  test(`registrator against ${kind} on a real Docker engine`, { timeout: 240_000 }, async (t) => {
    if (!requireDocker(t)) return;
    if (kind === 'etcd' && !requireEtcd(t)) return;
    const seed = seedFromEnv();
    t.diagnostic(`seed ${seed}`);
    const prefix = `berth-reg-${kind}-`;
    await removeContainers(prefix);
    await removeNetworks(prefix);
    await ensureBusyboxImage();
    const store = await startTestStore(kind);
    const hostId = `reg-${kind}-${seed}`;
    const label = `${kind}-${seed}`;
    const ctx: SuiteContext = {
      kind, store, prefix, hostId, label,
      baseArgs: ['--host-id', hostId, '--require-label', `berth-reg.run=${label}`, '--ttl', String(TTL_SECONDS), '--ttl-refresh', '1', '--log-level', 'info'],
    };
    const procs: TestProcess[] = [];
    const registrator = async (args: string[], env?: NodeJS.ProcessEnv) => {
      const p = await startRegistrator(store.url, [...ctx.baseArgs, ...args], env);
      procs.push(p);
      return p;
    };
    // Each step starts from nothing: its registrators, containers and entries go when it ends,
    // pass or fail, so one failure cannot leak into the next step.
    const step = (name: string, body: () => Promise<void>) =>
      t.test(name, async () => {
        try {
          await body();
        } finally {
          await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
          await removeContainers(prefix);
          await fetch(`${store.url}/v2/keys/services?recursive=true`, { method: 'DELETE' });
        }
      });
    try {
      await step('start: key within 1 s with ip:port; stop: key gone within 1 s, while the container still runs', () => startStop(t, ctx, registrator));
      await step('a kill with the container\'s STOPSIGNAL deregisters, a SIGHUP does not', () => stopSignals(t, ctx, registrator));
      await step('refreshes keep the key without waking watchers; SIGKILL of the registrator: it expires after the TTL', () => ttlExpiry(t, ctx, registrator));
      await step('restart: resync restores keys, --cleanup removes stale ones', () => restartCleanup(t, ctx, registrator));
      await step('--deregister on-success: a failed container keeps its entry until the TTL', () => deregisterOnSuccess(t, ctx, registrator));
      await step('--wait-for-port and HEALTHCHECK gate registration', () => readiness(t, ctx, registrator));
      await step('--internal: the container address answers over docker0; rename; SERVICE_NETWORK', () => internal(t, ctx, registrator));
      await step('docker socket cut and restored: reconnect and resync', () => reconnect(t, ctx, registrator));
      await step('50 containers started and stopped in a burst: the store matches docker ps', () => burst(t, ctx, registrator, new Rand(seed)));
    } finally {
      await Promise.all(procs.map((p) => p.stop('SIGKILL')));
      await removeContainers(prefix);
      await removeNetworks(prefix);
      await store.stop();
    }
  });
}

type StartRegistrator = (args: string[], env?: NodeJS.ProcessEnv) => Promise<TestProcess>;

async function startStop(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r = await registrator(['--ip', '127.0.0.1', '--tags', 'edge']);
  const c = await startLabelled(ctx, 'web1', { stopTimeoutSeconds: 3, labels: { SERVICE_TAGS: 'blue', SERVICE_REGION: 'eu' } });
  const expected = `127.0.0.1:${c.hostPorts[80]}`;
  const upMs = await timeUntil('key of web1', hasKey(ctx, c, expected), 1000);
  const page = await (await fetch(`http://${expected}/`)).text();
  assert.equal(page.trim(), `hello from ${c.name}`);
  const metaRes = await fetch(`${ctx.store.url}/v2/keys/services/berth-test-busybox/_meta/${ctx.hostId}:${c.name}:80`);
  const meta = JSON.parse(((await metaRes.json()) as { node: { value: string } }).node.value);
  assert.deepEqual([meta.hostId, meta.container.name, meta.tags, meta.attrs], [ctx.hostId, c.name, ['blue', 'edge'], { region: 'eu' }]);
  // busybox httpd ignores SIGTERM, so `docker stop -t 3` keeps it running for 3 s after the kill event.
  const stopping = c.stop(3);
  const downMs = await timeUntil('key of web1 to go', noKey(ctx, c), 1000);
  const state = await dockerClient().getContainer(c.id).inspect();
  assert.equal(state.State.Running, true, 'deregistered when the stop began, not after the exit');
  await stopping;
  await c.remove();
  await r.stop();
  t.diagnostic(`${ctx.kind}: key after start ${upMs} ms, gone after stop began ${downMs} ms`);
}

async function stopSignals(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r = await registrator(['--ip', '127.0.0.1']);
  const apache = await startLabelled(ctx, 'winch', { stopSignal: 'SIGWINCH', stopTimeoutSeconds: 3 });
  const reloaded = await startLabelled(ctx, 'hup');
  await timeUntil('keys of winch and hup', async () => (await hasKey(ctx, apache)()) && (await hasKey(ctx, reloaded)()), 2000);
  spawnSync('docker', ['kill', '--signal', 'HUP', reloaded.name]);
  const stopping = apache.stop(3);
  const ms = await timeUntil('key of winch gone on its STOPSIGNAL', noKey(ctx, apache), 1000);
  assert.equal((await dockerClient().getContainer(apache.id).inspect()).State.Running, true);
  assert.ok(await hasKey(ctx, reloaded)(), 'a SIGHUP (reload) keeps the entry');
  await stopping;
  for (const c of [apache, reloaded]) await c.remove();
  await r.stop();
  t.diagnostic(`${ctx.kind}: STOPSIGNAL SIGWINCH -> key gone ${ms} ms after the stop began; SIGHUP kept it`);
}

async function ttlExpiry(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r = await registrator(['--ip', '127.0.0.1']);
  const c = await startLabelled(ctx, 'ttl1');
  await timeUntil('key of ttl1', hasKey(ctx, c), 2000);
  // While the registrator lives, refreshes keep the entry past its TTL and wake no watcher.
  const kv = new HttpKvBackend({ endpoints: [ctx.store.url] });
  const stopWatch = new AbortController();
  let events = 0;
  const watching = (async () => {
    for await (const _ of kv.watch('/services', { recursive: true, signal: stopWatch.signal })) events++;
  })().catch(() => undefined);
  await new Promise((res) => setTimeout(res, (TTL_SECONDS + 1) * 1000));
  stopWatch.abort();
  await watching;
  await kv.close();
  assert.ok(await hasKey(ctx, c)(), 'refreshed past its TTL');
  assert.equal(events, 0, 'TTL refreshes (refresh=true) wake no watcher');
  await r.stop('SIGKILL');
  const killedAt = performance.now();
  await new Promise((res) => setTimeout(res, 1000));
  assert.ok(await hasKey(ctx, c)(), 'refreshed at most 1 s before the kill: still there 1 s after it');
  await timeUntil('key of ttl1 to expire', noKey(ctx, c), (TTL_SECONDS + 2) * 1000, 50);
  const goneMs = Math.round(performance.now() - killedAt);
  assert.ok(goneMs >= (TTL_SECONDS - 1) * 1000, `expired ${goneMs} ms after the kill, before TTL - refresh interval`);
  await c.remove();
  t.diagnostic(`${ctx.kind}: key expired ${goneMs} ms after SIGKILL (ttl ${TTL_SECONDS} s, refresh 1 s)`);
}

async function restartCleanup(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r1 = await registrator(['--ip', '127.0.0.1', '--ttl', '0']);
  const keep = await startLabelled(ctx, 'keep');
  const lost = await startLabelled(ctx, 'lost');
  const gone = await startLabelled(ctx, 'gone');
  for (const c of [keep, lost, gone]) await timeUntil(`key of ${c.name}`, hasKey(ctx, c), 2000);
  await r1.stop('SIGKILL');
  // While no registrator runs: one entry is lost from the store, one container goes away, and
  // another host's entry exists that this host must leave alone.
  await fetch(`${ctx.store.url}/v2/keys/services/berth-test-busybox/${ctx.hostId}:${lost.name}:80`, { method: 'DELETE' });
  await gone.remove();
  const other = `${ctx.store.url}/v2/keys/services/berth-test-busybox/other-host:web:80`;
  await fetch(other, { method: 'PUT', body: new URLSearchParams({ value: '10.9.9.9:80' }) });
  const keepIndex = await modifiedIndex(ctx, keep);
  const started = performance.now();
  const r2 = await registrator(['--ip', '127.0.0.1', '--ttl', '0', '--cleanup']);
  await timeUntil('resync: lost restored, gone cleaned up', async () => (await hasKey(ctx, lost)()) && (await noKey(ctx, gone)()), 3000);
  const resyncMs = Math.round(performance.now() - started);
  assert.ok(await hasKey(ctx, keep, `127.0.0.1:${keep.hostPorts[80]}`)());
  assert.equal((await storeEntries(ctx.store.url)).get('berth-test-busybox/other-host:web:80'), '10.9.9.9:80');
  assert.equal(await modifiedIndex(ctx, keep), keepIndex, 'an entry that was right is not rewritten (watchers stay asleep)');
  await r2.stop();
  for (const c of [keep, lost]) await c.remove();
  await fetch(other, { method: 'DELETE' });
  t.diagnostic(`${ctx.kind}: registrator start to restored + cleaned store ${resyncMs} ms`);
}

async function modifiedIndex(ctx: SuiteContext, c: { name: string }): Promise<number> {
  const res = await fetch(`${ctx.store.url}/v2/keys/services/berth-test-busybox/${ctx.hostId}:${c.name}:80`);
  return ((await res.json()) as { node: { modifiedIndex: number } }).node.modifiedIndex;
}

async function deregisterOnSuccess(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r = await registrator(['--ip', '127.0.0.1', '--deregister', 'on-success']);
  // httpd without -f forks into the background; the shell (PID 1) exits after 2 s with the code.
  const exitingWith = (code: number) => ['/bin/busybox', 'sh', '-c', `/bin/busybox httpd -p 80 -h /www; sleep 2; exit ${code}`];
  const ok = await startLabelled(ctx, 'exit0', { cmd: exitingWith(0) });
  const failed = await startLabelled(ctx, 'exit3', { cmd: exitingWith(3) });
  await timeUntil('keys of exit0 and exit3', async () => (await hasKey(ctx, ok)()) && (await hasKey(ctx, failed)()), 2000);
  const docker = dockerClient();
  await timeUntil('both containers to exit', async () => {
    const states = await Promise.all([ok, failed].map(async (c) => (await docker.getContainer(c.id).inspect()).State.Running));
    return states.every((running) => !running);
  }, 5000, 50);
  const okGoneMs = await timeUntil('key of exit0 gone', noKey(ctx, ok), 1000);
  assert.ok(await hasKey(ctx, failed)(), 'a failed container keeps its entry until the TTL');
  const failedGoneMs = await timeUntil('key of exit3 to expire', noKey(ctx, failed), (TTL_SECONDS + 2) * 1000, 50);
  await r.stop();
  for (const c of [ok, failed]) await c.remove();
  t.diagnostic(`${ctx.kind}: --deregister on-success: exit 0 removed after ${okGoneMs} ms, exit 3 expired ${failedGoneMs} ms later`);
}

async function readiness(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r = await registrator(['--ip', '127.0.0.1']);
  const slowCmd = ['/bin/busybox', 'sh', '-c', `sleep 2; echo "hello from ${ctx.prefix}slow" > /tmp/index.html; exec /bin/busybox httpd -f -p 80 -h /tmp`];
  const slow = await startLabelled(ctx, 'slow', { cmd: slowCmd });
  const t0 = performance.now();
  await new Promise((res) => setTimeout(res, 1200));
  assert.ok(await noKey(ctx, slow)(), 'not registered while the port is closed');
  await timeUntil('key of slow', hasKey(ctx, slow), 4000);
  const slowMs = Math.round(performance.now() - t0);
  assert.ok(slowMs >= 1500, `registered ${slowMs} ms after start, before the port opened (2 s)`);
  const healthy = await startLabelled(ctx, 'health', { healthCmd: 'test ! -e /tmp/down', healthIntervalMs: 500 });
  await timeUntil('key of health once healthy', hasKey(ctx, healthy), 4000);
  spawnSync('docker', ['exec', healthy.name, '/bin/busybox', 'touch', '/tmp/down']);
  const unhealthyMs = await timeUntil('key of health gone once unhealthy', noKey(ctx, healthy), 4000);
  await r.stop();
  for (const c of [slow, healthy]) await c.remove();
  t.diagnostic(`${ctx.kind}: port opening 2 s after start -> key at ${slowMs} ms; unhealthy -> key gone ${unhealthyMs} ms after the exec`);
}

async function internal(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const r = await registrator(['--internal']);
  const c = await startLabelled(ctx, 'inner', { publish: [], expose: [80] });
  await timeUntil('key of inner', hasKey(ctx, c, `${c.ip}:80`), 1000);
  const page = await (await fetch(`http://${c.ip}:80/`, { signal: AbortSignal.timeout(2000) })).text();
  assert.equal(page.trim(), `hello from ${c.name}`);
  // A renamed container's entry moves to its new name (the name is part of the id).
  spawnSync('docker', ['rename', c.name, `${c.name}-renamed`]);
  const renamed = { name: `${c.name}-renamed` };
  await timeUntil('entry under the new name only', async () => (await hasKey(ctx, renamed, `${c.ip}:80`)()) && (await noKey(ctx, c)()), 1000);
  // On a user-defined network the label picks the address there.
  const net = await createNetwork(`${ctx.prefix}net`);
  try {
    const onNet = await startLabelled(ctx, 'onnet', { publish: [], expose: [80], network: net.name, labels: { SERVICE_NETWORK: net.name } });
    assert.notEqual(onNet.ip.split('.').slice(0, 2).join('.'), c.ip.split('.').slice(0, 2).join('.'), 'a different subnet than docker0');
    await timeUntil('key of onnet', hasKey(ctx, onNet, `${onNet.ip}:80`), 1000);
    await onNet.remove();
  } finally {
    await net.remove();
  }
  await r.stop();
  await c.remove();
  t.diagnostic(`${ctx.kind}: --internal advertised ${c.ip}:80 and it answered; a rename moved the entry; SERVICE_NETWORK picked the user network's address`);
}

async function reconnect(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-relay-'));
  const relay = await startDockerRelay(join(dir, 'docker.sock'));
  try {
    const r = await registrator(['--ip', '127.0.0.1'], { DOCKER_HOST: relay.dockerHost });
    const before = await startLabelled(ctx, 'before');
    await timeUntil('key of before', hasKey(ctx, before), 2000);
    await relay.cut();
    await before.remove();
    const during = await startLabelled(ctx, 'during');
    await new Promise((res) => setTimeout(res, 500));
    assert.ok(await hasKey(ctx, before)(), 'cut off: the registrator cannot have seen the removal');
    await relay.restore();
    const ms = await timeUntil('resync after reconnect', async () => (await hasKey(ctx, during)()) && (await noKey(ctx, before)()), 8000);
    assert.match(r.output(), /lost the docker event stream/);
    // And it follows events again on the new stream.
    const after = await startLabelled(ctx, 'after');
    await timeUntil('key of after', hasKey(ctx, after), 1000);
    await r.stop();
    for (const c of [during, after]) await c.remove();
    t.diagnostic(`${ctx.kind}: socket restored -> store resynced in ${ms} ms`);
  } finally {
    await relay.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function burst(t: TestContext, ctx: SuiteContext, registrator: StartRegistrator, rand: Rand): Promise<void> {
  const names = Array.from({ length: 50 }, (_, i) => `burst${String(i).padStart(2, '0')}`);
  const started: BusyboxContainer[] = [];
  const t0 = performance.now();
  // Ten at a time start, and a random third stop again while the rest are still starting. The
  // registrator itself starts during the burst: containers that start and stop while it lists
  // and subscribes must not fall between the list and the event stream.
  let r: Promise<TestProcess> | undefined;
  for (let i = 0; i < names.length; i += 10) {
    if (i === 20) r = registrator(['--internal']);
    const batch = await Promise.all(names.slice(i, i + 10).map((n) => startLabelled(ctx, n, { publish: [], expose: [80] })));
    started.push(...batch);
    await Promise.all(batch.filter(() => rand.chance(1 / 3)).map((c) => c.stop(0)));
  }
  await r;
  const registered = async () => {
    const running = (await runningContainerNames(`${ctx.prefix}burst`)).map((n) => `berth-test-busybox/${ctx.hostId}:${n}:80`);
    const keys = [...(await storeEntries(ctx.store.url)).keys()].filter((k) => k.includes(`:${ctx.prefix}burst`)).sort();
    return { running, keys };
  };
  await waitForMatch('store to match docker ps after the burst', registered, 20_000);
  const { running } = await registered();
  assert.ok(running.length > 20 && running.length < 50, `a mix of running and stopped (${running.length} running)`);
  const settledMs = Math.round(performance.now() - t0);
  await Promise.all(started.map((c) => c.stop(0)));
  await waitForMatch('store empty after stopping the rest', registered, 20_000);
  assert.deepEqual((await registered()).keys, []);
  await (await r)?.stop();
  await Promise.all(started.map((c) => c.remove()));
  t.diagnostic(`${ctx.kind}: 50 started, ${50 - running.length} stopped in the burst; store matched docker ps ${settledMs} ms after the first start`);
}

async function waitForMatch(what: string, read: () => Promise<{ running: string[]; keys: string[] }>, timeoutMs: number): Promise<void> {
  let last = { running: [] as string[], keys: [] as string[] };
  try {
    await timeUntil(what, async () => {
      last = await read();
      return JSON.stringify(last.running) === JSON.stringify(last.keys);
    }, timeoutMs, 100);
  } catch (e) {
    assert.deepEqual(last.keys, last.running, (e as Error).message);
  }
}
