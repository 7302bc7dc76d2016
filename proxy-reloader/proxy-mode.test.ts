import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { silentLogger } from '../lib/log.ts';
import { waitFor } from '../lib/testing/process.ts';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import { ProxyMode, type ProxyModeOptions } from './proxy-mode.ts';
import { parseRoute } from './routes.ts';
import { startBackend, startUnreachable, type Backend } from './testing/backends.ts';
import { httpExchange } from './testing/http-get.ts';

async function setup(t: import('node:test').TestContext, extra: Partial<ProxyModeOptions> = {}) {
  const kv = new MemoryKvBackend();
  const backends: Backend[] = [];
  const proxy = new ProxyMode({
    kv,
    routes: [parseRoute('web.test=/services/web'), parseRoute('/api/=/services/api')],
    listenHost: '127.0.0.1',
    listenPort: 0,
    strategy: 'round-robin',
    maxFails: 1,
    ejectMs: 5000,
    connectTimeoutMs: 2000,
    maxRemovalPct: 100,
    removalGraceMs: 0,
    statusPath: '/status',
    logger: silentLogger,
    ...extra,
  });
  t.after(async () => {
    await proxy.stop();
    await Promise.all(backends.map((b) => b.close().catch(() => {})));
    await kv.close();
  });
  const add = async (dir: string, name: string) => {
    const b = await startBackend(name);
    backends.push(b);
    await kv.set(`${dir}/${name}`, b.address);
    return b;
  };
  /** Registers a listener whose connects never complete (a host that is gone) under `dir`. */
  const addUnreachable = async (dir: string, name: string) => {
    const u = await startUnreachable();
    t.after(() => u.close());
    await kv.set(`${dir}/${name}`, u.address);
    return u;
  };
  const member = (address: string) => proxy.pools.get('/services/web')!.list().find((m) => m.address === address)!;
  /** Lets passive health pick `address` again, so the next request goes there first half the time. */
  const unEject = (address: string) => {
    const m = member(address);
    m.ejectedUntil = 0;
    m.consecutiveFailures = 0;
  };
  const get = (path: string, host = 'web.test') => httpExchange(proxy.server.port, path, { host });
  /** Waits until the web route knows `n` upstreams. */
  const webUpstreams = (n: number, what = `${n} web upstreams`) => waitFor(what, () => proxy.pools.get('/services/web')!.list().length === n, 5000, 5);
  /** Sends `times` POSTs with a body, each after un-ejecting `address`; their answers. */
  const postEach = async (address: string, times: number) => {
    const answers = [];
    for (let i = 0; i < times; i++) {
      unEject(address);
      answers.push(await httpExchange(proxy.server.port, '/', { method: 'POST', host: 'web.test', body: 'x=1' }));
    }
    return answers;
  };
  return { kv, proxy, add, addUnreachable, member, unEject, get, webUpstreams, postEach };
}

test('routes by Host and by path prefix, round-robin, X-Forwarded-*, status JSON', async (t) => {
  const s = await setup(t);
  await s.proxy.start();
  await s.add('/services/web', 'w1');
  await s.add('/services/web', 'w2');
  await s.add('/services/api', 'a1');
  await waitFor('3 upstreams', () => s.proxy.pools.get('/services/web')!.list().length === 2 && s.proxy.pools.get('/services/api')!.list().length === 1, 5000, 5);
  const bodies = [];
  for (let i = 0; i < 4; i++) bodies.push((await s.get('/')).body);
  assert.deepEqual(bodies.sort(), ['w1', 'w1', 'w2', 'w2']);
  assert.equal((await s.get('/api/x', 'other.host')).body, 'a1');
  assert.equal((await s.get('/nothing', 'other.host')).status, 404);
  const echoed = JSON.parse((await s.get('/headers')).body) as { headers: Record<string, string> };
  assert.equal(echoed.headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(echoed.headers['x-forwarded-host'], 'web.test');
  assert.equal(echoed.headers['x-forwarded-proto'], 'http');
  const status = JSON.parse((await s.get('/status')).body) as { store: { connected: boolean; index: number }; routes: { route: string; healthy: number }[] };
  assert.equal(status.store.connected, true);
  assert.ok(status.store.index > 0);
  assert.deepEqual(status.routes.map((r) => [r.route, r.healthy]), [['web.test=/services/web', 2], ['/api/=/services/api', 1]]);
});

test('503 with a clear body when no upstream is registered', async (t) => {
  const s = await setup(t);
  await s.proxy.start();
  await s.proxy.ready;
  const r = await s.get('/');
  assert.equal(r.status, 503);
  assert.match(r.body, /route "web.test=\/services\/web" \(\/services\/web\): no upstream is registered/);
  assert.equal(r.headers['retry-after'], '1');
});

test('a GET to a dead upstream is retried on another one; a POST with a body is not', async (t) => {
  const s = await setup(t);
  await s.proxy.start();
  const dead = await s.add('/services/web', 'w1');
  await s.add('/services/web', 'w2');
  await s.webUpstreams(2, '2 upstreams');
  await dead.kill(); // still registered in the store
  for (let i = 0; i < 6; i++) assert.equal((await s.get('/')).body, 'w2');
  assert.ok(s.proxy.server.retried >= 1);
  assert.ok(s.member(dead.address).ejectedUntil > Date.now(), 'passive health ejected the dead upstream');
  // A POST with a body must not be resent.
  const posted = await s.postEach(dead.address, 4);
  assert.ok(posted.some((res) => res.status === 502), 'a POST with a body that hit the dead upstream got a 502, not a resend');
});

test('a connect that does not complete is given up after the connect timeout and the request, whatever its method, goes to another upstream', async (t) => {
  const s = await setup(t, { connectTimeoutMs: 300 });
  await s.proxy.start();
  const gone = await s.addUnreachable('/services/web', 'gone');
  await s.add('/services/web', 'w2');
  await s.webUpstreams(2, '2 upstreams');
  for (const method of ['POST', 'GET', 'DELETE']) {
    s.unEject(gone.address);
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const res = await httpExchange(s.proxy.server.port, '/', { method, host: 'web.test', timeoutMs: 2000 });
      assert.equal(res.status, 200, `${method} answered ${res.status}: ${res.body}`);
      assert.equal(res.body, 'w2');
      assert.ok(performance.now() - started < 1500, `${method} took ${(performance.now() - started).toFixed(0)} ms`);
    }
  }
  assert.ok(s.proxy.server.retried >= 3, `retried ${s.proxy.server.retried}`);
  // With no other upstream, the 502 says why.
  await s.kv.delete('/services/web/w2');
  await s.webUpstreams(1, '1 upstream');
  s.unEject(gone.address);
  const res = await s.get('/');
  assert.equal(res.status, 502);
  assert.match(res.body, new RegExp(`upstream ${gone.address}: no connection within 300 ms`));
});

test('an upstream that breaks off after the head of its answer: a GET goes to another upstream, a POST with a body gets a 502, neither a cut answer', async (t) => {
  const s = await setup(t);
  await s.proxy.start();
  const breaking = await s.add('/services/web', 'w1');
  await s.add('/services/web', 'w2');
  await s.webUpstreams(2, '2 upstreams');
  breaking.breakAfterHead = true;
  for (let i = 0; i < 4; i++) {
    s.unEject(breaking.address);
    const res = await s.get('/');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'w2');
  }
  assert.ok(breaking.hits >= 1 && s.proxy.server.retried >= 1, `hits ${breaking.hits}, retried ${s.proxy.server.retried}`);
  const posted = await s.postEach(breaking.address, 4);
  for (const res of posted) {
    if (res.status === 502) assert.match(res.body, /in the middle of its answer|before its answer ended/);
    else assert.equal(res.body, 'w2');
  }
  assert.ok(posted.some((res) => res.status === 502), 'a POST with a body that reached the breaking upstream got a 502, not a resend');
});

test('WebSocket upgrades pass through', async (t) => {
  const s = await setup(t);
  await s.proxy.start();
  await s.add('/services/web', 'ws1');
  await s.webUpstreams(1, 'upstream');
  const echoed = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.proxy.server.port, path: '/chat', headers: { host: 'web.test', connection: 'Upgrade', upgrade: 'websocket' } });
    req.on('upgrade', (_res, socket) => {
      socket.once('data', (d: Buffer) => {
        resolve(d.toString());
        socket.destroy();
      });
      socket.write('hello');
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(echoed, 'ws1:hello');
});

test('a WebSocket upgrade to an upstream whose connect does not complete is given up after the connect timeout', async (t) => {
  const s = await setup(t, { connectTimeoutMs: 300 });
  await s.proxy.start();
  const gone = await s.addUnreachable('/services/web', 'gone');
  await s.webUpstreams(1, 'upstream');
  const started = performance.now();
  const outcome = await new Promise<string>((resolve) => {
    const req = request({ host: '127.0.0.1', port: s.proxy.server.port, path: '/chat', headers: { host: 'web.test', connection: 'Upgrade', upgrade: 'websocket' } });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve('upgraded');
    });
    req.on('response', (res) => resolve(`answered ${res.statusCode}`));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
  const tookMs = performance.now() - started;
  assert.equal(outcome, 'socket hang up');
  assert.ok(tookMs < 1500, `the upgrade was given up only after ${tookMs.toFixed(0)} ms`);
  assert.equal(s.member(gone.address).consecutiveFailures, 1);
});

test('a removed upstream finishes its in-flight request (drain)', async (t) => {
  const s = await setup(t);
  await s.proxy.start();
  await s.add('/services/web', 'w1');
  await s.webUpstreams(1, 'upstream');
  const slow = s.get('/slow');
  await waitFor('in flight', () => s.proxy.pools.get('/services/web')!.list()[0]!.inflight === 1, 5000, 2);
  await s.kv.delete('/services/web/w1');
  await waitFor('draining', () => s.proxy.pools.get('/services/web')!.list()[0]?.draining === true, 5000, 2);
  assert.equal((await s.get('/')).status, 503, 'no new requests to a draining upstream');
  const r = await slow;
  assert.deepEqual([r.status, r.body], [200, 'w1']);
  await s.webUpstreams(0, 'forgotten after drain');
});

test('active health checks take a failing upstream out and bring it back', async (t) => {
  const s = await setup(t, { health: { path: '/health', intervalMs: 50, timeoutMs: 500, rise: 2, fall: 2 } });
  await s.proxy.start();
  const sick = await s.add('/services/web', 'w1');
  await s.add('/services/web', 'w2');
  await waitFor('2 upstreams', () => s.proxy.pools.get('/services/web')!.healthyCount() === 2, 5000, 5);
  sick.healthy = false;
  await waitFor('w1 marked unhealthy', () => s.proxy.pools.get('/services/web')!.healthyCount() === 1, 5000, 5);
  for (let i = 0; i < 6; i++) assert.equal((await s.get('/')).body, 'w2');
  sick.healthy = true;
  await waitFor('w1 healthy again', () => s.proxy.pools.get('/services/web')!.healthyCount() === 2, 5000, 5);
  const bodies = new Set<string>();
  for (let i = 0; i < 6; i++) bodies.add((await s.get('/')).body);
  assert.deepEqual([...bodies].sort(), ['w1', 'w2']);
});

test('sticky sessions: the cookie keeps a client on its upstream while it is usable', async (t) => {
  const s = await setup(t, { stickyCookie: 'berth_sticky' });
  await s.proxy.start();
  await s.add('/services/web', 'w1');
  await s.add('/services/web', 'w2');
  await s.webUpstreams(2, '2 upstreams');
  const first = await s.get('/');
  const cookie = String(first.headers['set-cookie']).split(';')[0]!;
  assert.match(cookie, /^berth_sticky=[\w-]{16}$/);
  const withCookie = () => httpExchange(s.proxy.server.port, '/', { host: 'web.test', cookie });
  for (let i = 0; i < 6; i++) {
    const r = await withCookie();
    assert.equal(r.body, first.body);
    assert.equal(r.headers['set-cookie'], undefined, 'no new cookie while it holds');
  }
  // Its upstream goes away: the client moves, and gets a new cookie.
  await s.kv.delete(`/services/web/${first.body}`);
  await s.webUpstreams(1, 'removed');
  const moved = await withCookie();
  assert.notEqual(moved.body, first.body);
  assert.match(String(moved.headers['set-cookie']), /^berth_sticky=/);
});
