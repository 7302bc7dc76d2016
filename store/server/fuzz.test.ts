import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { waitFor } from '../../lib/testing/process.ts';
import { agent, send, type FuzzAnswer } from './fuzz-testing/send.ts';
import { generateRequest, type FuzzRequest } from './fuzz-testing/generator.ts';
import { basicAuthHeader } from './auth-testing/probe.ts';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 20_000);
const CONCURRENCY = 24;
const SECRET_MARK = 'SECRET-VALUE-';
const ROOT = { authorization: basicAuthHeader('root', 'rootpw') };

/** 5xx answers etcd itself gives: no leader (/health), raft errors as etcd JSON (300/301). */
function isEtcdOwn5xx(req: FuzzRequest, a: FuzzAnswer): boolean {
  if (a.status === 503 && req.target.startsWith('/health')) return true;
  return a.status === 500 && /"errorCode":30[01]/.test(a.body);
}

async function setUpAuth(url: string): Promise<void> {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, form = false) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
      body: body === undefined ? undefined : form ? new URLSearchParams(body as Record<string, string>) : JSON.stringify(body),
    });
    await res.arrayBuffer();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status}`);
  };
  await call('PUT', '/v2/auth/users/root', { user: 'root', password: 'rootpw' });
  await call('PUT', '/v2/auth/roles/reader', { role: 'reader', permissions: { kv: { read: ['/public/*', '/fuzz/*'], write: ['/fuzz/*'] } } });
  await call('PUT', '/v2/auth/users/pub', { user: 'pub', password: 'pubpw', roles: ['reader'] });
  for (let i = 0; i < 5; i++) {
    await call('PUT', `/v2/keys/secret/s${i}`, { value: `${SECRET_MARK}${i}` }, {}, true);
    await call('PUT', `/v2/keys/public/p${i}`, { value: `open-${i}` }, {}, true);
  }
  await call('PUT', '/v2/auth/enable');
  await call('PUT', '/v2/auth/roles/guest', { role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } }, ROOT);
  await call('PUT', '/v2/auth/roles/guest', { role: 'guest', grant: { kv: { read: ['/public/*'] } } }, ROOT);
}

/** Every member's whole keyspace and auth state, as root; equal once they have applied the same log. */
async function memberState(url: string): Promise<string> {
  const keys = await (await fetch(`${url}/v2/keys/?recursive=true&sorted=true`, { headers: ROOT })).json();
  const users = await (await fetch(`${url}/v2/auth/users`, { headers: ROOT })).text();
  const roles = await (await fetch(`${url}/v2/auth/roles`, { headers: ROOT })).text();
  const strip = (v: unknown): unknown => (Array.isArray(v) ? v.map(strip) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'ttl' && k !== 'expiration').map(([k, x]) => [k, strip(x)])) : v);
  return JSON.stringify({ keys: strip(keys), users, roles });
}

test(`fuzz: ${REQUESTS} random and mutated requests against a 3-node cluster`, { timeout: 600_000 }, async (t) => {
  const seed = seedFromEnv();
  t.diagnostic(`fuzz seed ${seed}; rerun: SEED=${seed} npm test -- store/server/fuzz.test.ts`);
  const cluster = await startCluster('berth', 3);
  t.after(async () => {
    agent.destroy();
    await cluster.stop();
  });
  const urls = cluster.clientUrls;
  await setUpAuth(urls[0]!);
  const rand = new Rand(seed);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let timeouts = 0;
  let next = 0;
  const started = Date.now();
  const worker = async (w: number) => {
    const r = new Rand(rand.fork().int(2 ** 31) + w);
    while (next < REQUESTS && failures.length < 20) {
      next++;
      const req = generateRequest(r);
      const port = Number(new URL(urls[r.int(urls.length)]!).port);
      const a = await send(port, req);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.timedOut) timeouts++;
      if (process.env.FUZZ_DEBUG && a.status === 0) t.diagnostic(`no status line: ${req.identity} ${req.method} ${req.target.slice(0, 100)} ${req.raw ? "raw" : ""} ${a.body.slice(0, 120)}`);
      const what = `${req.identity} ${req.method} ${req.target}${req.raw ? ' (raw)' : ''} -> ${a.status}`;
      if (a.status >= 500 && !isEtcdOwn5xx(req, a)) failures.push(`5xx: ${what}: ${a.body.slice(0, 200)}`);
      if (a.timedOut && !req.raw) failures.push(`no answer in time: ${what}`);
      if (req.identity !== 'root' && a.body.includes(SECRET_MARK)) failures.push(`secret leaked: ${what}: ${a.body.slice(0, 200)}`);
      if (/\$2[aby]\$\d\d\$/.test(a.body)) failures.push(`password hash leaked: ${what}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`${next} requests in ${seconds.toFixed(1)} s (${(next / seconds).toFixed(0)}/s); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}; raw timeouts ${timeouts}`);
  assert.deepEqual(failures, [], `seed ${seed}`);
  assert.ok(next >= REQUESTS, `only ${next} requests sent`);

  // No member crashed, and all converge on the same keyspace and auth state.
  for (const m of cluster.members) assert.equal(m.process.child.exitCode, null, `${m.name} exited:\n${m.process.output().slice(-2000)}`);
  const barrier = await fetch(`${urls[0]}/v2/keys/fuzz-done`, { method: 'PUT', headers: { ...ROOT, 'content-type': 'application/x-www-form-urlencoded' }, body: 'value=1' });
  assert.ok(barrier.status < 300, `a write after the fuzz run failed: ${barrier.status}`);
  let states: string[] = [];
  await waitFor('members to converge', async () => {
    states = await Promise.all(urls.map(memberState));
    return states.every((s) => s === states[0]);
  }, 15_000).catch(() => assert.fail(`members disagree after the run (seed ${seed}):\n${states.map((s) => s.slice(0, 500)).join('\n')}`));
  for (let i = 0; i < 5; i++) assert.ok(states[0]!.includes(`${SECRET_MARK}${i}`), 'the seeded secrets survived');
  const anon = await fetch(`${urls[1]}/v2/keys/secret/s0`);
  assert.equal(anon.status, 401, 'auth is still enabled and guarding /secret');
  // Nothing secret reached the members' logs (the warnings the fuzzing provoked included).
  for (const m of cluster.members) {
    const logs = m.process.output();
    for (const secret of ['rootpw', 'pubpw', '$2a$', '$2b$', SECRET_MARK]) assert.ok(!logs.includes(secret), `${m.name} logged "${secret}"`);
  }
});
