import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../lib/testing/ports.ts';
import { startProcess, waitFor, type TestProcess } from '../../../lib/testing/process.ts';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { hasBinary, requireComponent, requireEtcd } from '../../../lib/testing/requirements.ts';
import { runTool, type ToolOutput } from './differential.ts';

const sortLines = (o: ToolOutput) => ({ ...o, stdout: o.stdout.split('\n').sort().join('\n') });

function bothSay(args: string[], opts: { env?: NodeJS.ProcessEnv; sortStdout?: boolean } = {}): ToolOutput {
  const b = runTool('berth', args, opts.env);
  const e = runTool('etcdctl', args, opts.env);
  // Member order follows member IDs, which differ between runs.
  assert.deepEqual(opts.sortStdout ? sortLines(b) : b, opts.sortStdout ? sortLines(e) : e, args.join(' '));
  return b;
}

test('cluster-health and unreachable endpoints: berth ctl prints what etcdctl prints, for etcd and berth clusters with a member down', { timeout: 120_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  bothSay(['--endpoints', 'http://127.0.0.1:1', 'get', '/x']);
  bothSay(['--endpoints', 'http://127.0.0.1:1,http://127.0.0.1:2', 'ls', '/'], { sortStdout: true });
  bothSay(['--endpoints', 'http://127.0.0.1:1', 'cluster-health']);
  // Exit 2 when the sync cannot connect, 4 when a request fails after it (or without it).
  bothSay(['--endpoints', 'http://127.0.0.1:1', 'watch', '/x']);
  bothSay(['--endpoints', 'http://127.0.0.1:1', '--no-sync', 'get', '/x']);
  bothSay(['--endpoints', 'http://127.0.0.1:1', '--no-sync', 'watch', '/x']);
  for (const kind of ['etcd', 'berth'] as const) {
    const c = await startCluster(kind, 3);
    t.after(() => c.stop());
    const healthy = bothSay(['--endpoints', c.clientUrls[0]!, 'cluster-health'], { sortStdout: true });
    assert.match(healthy.stdout, /cluster is healthy/);
    assert.equal(healthy.code, 0);
    // A follower, so no election runs while the two tools look (health is false during one).
    const leader = await c.leaderUrl();
    await c.kill(c.members.find((m) => m.clientUrl !== leader)!.name, 'SIGKILL');
    const degraded = bothSay(['--endpoints', leader, 'cluster-health'], { sortStdout: true });
    assert.match(degraded.stdout, /failed to check the health of member <id> on http:\/\/127\.0\.0\.1:P: Get "http:\/\/127\.0\.0\.1:P\/health": dial tcp 127\.0\.0\.1:P: connect: connection refused/);
    assert.equal(degraded.code, 5);
    await c.stop();
  }
});

/** A CA, and one certificate for 127.0.0.1 usable as server and client certificate. */
async function makeCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ossl = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=berth-test-ca');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=127.0.0.1');
  ossl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'node.pem'), key: join(dir, 'node.key') };
}

/** One store member serving clients over TLS that requires client certificates. */
async function startTlsMember(t: TestContext, kind: 'etcd' | 'berth', dir: string, certs: { ca: string; cert: string; key: string }): Promise<string | null> {
  const url = `https://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const flags = ['--name', 'n', '--data-dir', join(dir, `${kind}-data`), '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `n=${peer}`, '--cert-file', certs.cert, '--key-file', certs.key, '--trusted-ca-file', certs.ca, '--client-cert-auth'];
  const proc: TestProcess = kind === 'etcd' ? startProcess('etcd', ['--enable-v2', '--log-level', 'error', ...flags]) : startProcess(process.execPath, [resolve(import.meta.dirname, '../../../bin/berth'), 'store', '--log-level', 'warn', ...flags]);
  t.after(() => proc.stop());
  const tlsArgs = ['--endpoints', url, '--ca-file', certs.ca, '--cert-file', certs.cert, '--key-file', certs.key];
  await waitFor(`${kind} over TLS`, () => {
    if (proc.child.exitCode !== null && /TLS is not supported yet/.test(proc.output())) return true;
    return runTool('etcdctl', [...tlsArgs, 'set', '/ready', '1']).code === 0;
  }, 30_000, 200);
  // Until the store serves TLS itself, only the command-line side can be compared against it.
  if (proc.child.exitCode !== null) {
    t.diagnostic(`${kind} store: ${proc.output().trim()}; comparing against etcd only`);
    return null;
  }
  return url;
}

test('TLS flags: --ca-file/--cert-file/--key-file and ETCDCTL_* variables, against stores requiring client certificates (etcd; berth too once its store serves TLS)', { timeout: 120_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  if (!requireComponent(t, 'openssl', hasBinary('openssl'), 'apt-get install -y openssl')) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-rec-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const certs = await makeCerts(dir);
  for (const kind of ['etcd', 'berth'] as const) {
    const url = await startTlsMember(t, kind, dir, certs);
    if (!url) continue;
    const full = ['--endpoints', url, '--ca-file', certs.ca, '--cert-file', certs.cert, '--key-file', certs.key];
    bothSay([...full, 'set', '/tls/k', 'secret']);
    bothSay([...full, '-o', 'extended', 'get', '/tls/k']);
    bothSay([...full, 'ls', '/tls']);
    bothSay([...full, 'cluster-health']);
    bothSay(['--endpoints', url, 'get', '/tls/k'], { env: { ETCDCTL_CA_FILE: certs.ca, ETCDCTL_CERT_FILE: certs.cert, ETCDCTL_KEY_FILE: certs.key } });
    const noCa = bothSay(['--endpoints', url, 'get', '/tls/k']);
    assert.match(noCa.stderr, /x509: certificate signed by unknown authority/);
  }
});

test('auth flags: -u user:password and --username against etcd with auth enabled', { timeout: 60_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const c = await startCluster('etcd', 1);
  t.after(() => c.stop());
  const url = c.clientUrls[0]!;
  const put = (path: string, body?: unknown) => fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('root:rootpw').toString('base64') }, body: body ? JSON.stringify(body) : undefined });
  assert.equal((await put('/v2/auth/users/root', { user: 'root', password: 'rootpw' })).status, 201);
  assert.equal((await put('/v2/auth/enable')).status, 200);
  // etcd's guest role may do anything until told otherwise.
  assert.equal((await put('/v2/auth/roles/guest', { role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } })).status, 200);
  bothSay(['--endpoints', url, '-u', 'root:rootpw', 'set', '/a/k', 'v']);
  bothSay(['--endpoints', url, '--username', 'root:rootpw', '-o', 'json', 'get', '/a/k']);
  const refused = bothSay(['--endpoints', url, 'set', '/a/k', 'w']);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /110: The request requires user authentication/);
  bothSay(['--endpoints', url, '-u', 'root:wrong', 'set', '/a/k', 'w']);
  bothSay(['--endpoints', url, 'get', '/a/k']);
});

test('--timeout and --total-timeout against a paused berth store: same message and exit code as etcdctl, in bounded time', { timeout: 90_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  // The store only has to stop answering; the comparison is between the two command lines.
  for (const kind of ['berth'] as const) {
    const c = await startCluster(kind, 1);
    t.after(() => c.stop());
    const pid = c.members[0]!.process.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const ours = runTool('berth', ['--endpoints', c.clientUrls[0]!, '--timeout', '1s', '--total-timeout', '2s', 'get', '/x']);
      const tookMs = Date.now() - started;
      const theirs = runTool('etcdctl', ['--endpoints', c.clientUrls[0]!, '--timeout', '1s', '--total-timeout', '2s', 'get', '/x']);
      assert.deepEqual(ours, theirs, kind);
      assert.match(ours.stderr, /exceeded header timeout/);
      // Sync (1 s) + the command (2 s total) + the report's probe (1 s), plus start-up.
      assert.ok(tookMs < 7000, `berth ctl took ${tookMs} ms`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await c.stop();
  }
});
