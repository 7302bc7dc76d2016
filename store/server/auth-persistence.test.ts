import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { basicAuthHeader } from './auth-testing/probe.ts';

const basic = (u: string, p: string) => ({ authorization: basicAuthHeader(u, p) });
const ROOT = basic('root', 'rootpw');
const ALICE = basic('alice', 'alicepw');

// Auth state is replicated state: after enough writes for a snapshot and a restart, users,
// roles, the guest role and the switch come back from the snapshot, and still apply.
test('auth state survives a restart from a raft snapshot', { timeout: 120_000 }, async (t) => {
  const cluster = await startCluster('berth', 1, { snapshotCount: 5 });
  t.after(() => cluster.stop());
  const [m] = cluster.members;
  const url = m!.clientUrl;
  const call = async (method: string, path: string, opts: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.form ? new URLSearchParams(opts.form) : undefined,
    });
    return { status: res.status, body: await res.text() };
  };
  assert.equal((await call('PUT', '/v2/auth/users/root', { json: { user: 'root', password: 'rootpw' } })).status, 201);
  assert.equal((await call('PUT', '/v2/auth/roles/reader', { json: { role: 'reader', permissions: { kv: { read: ['/app/*'], write: [] } } } })).status, 201);
  assert.equal((await call('PUT', '/v2/auth/users/alice', { json: { user: 'alice', password: 'alicepw', roles: ['reader'] } })).status, 200);
  assert.equal((await call('PUT', '/v2/auth/enable')).status, 200);
  assert.equal((await call('PUT', '/v2/auth/roles/guest', { json: { role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } }, headers: ROOT })).status, 200);
  for (let i = 0; i < 20; i++) assert.ok((await call('PUT', `/v2/keys/app/k${i}`, { form: { value: String(i) }, headers: ROOT })).status < 300);
  const snaps = await readdir(join(m!.dataDir, 'snap'));
  assert.ok(snaps.length > 0, 'no snapshot was written');

  await cluster.kill(m!.name, 'SIGTERM');
  await cluster.restart(m!.name);

  assert.equal((await call('GET', '/v2/auth/enable')).body.trim(), '{"enabled":true}');
  assert.equal((await call('GET', '/v2/keys/app/k1')).status, 401, 'the guest got its permissions back');
  assert.equal((await call('GET', '/v2/keys/app/k1', { headers: ALICE })).status, 200, 'alice lost her role or password');
  assert.equal((await call('PUT', '/v2/keys/app/k1', { form: { value: 'x' }, headers: ALICE })).status, 401);
  assert.equal((await call('GET', '/v2/keys/app/k1', { headers: basic('alice', 'wrong') })).status, 401);
  const users = await call('GET', '/v2/auth/users', { headers: ROOT });
  assert.equal(users.status, 200);
  assert.match(users.body, /"user":"alice"/);
  assert.doesNotMatch(users.body, /\$2[aby]\$/, 'a password hash was served');
});
