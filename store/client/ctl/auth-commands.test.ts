import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../lib/testing/ports.ts';
import { waitFor } from '../../../lib/testing/process.ts';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../../lib/testing/requirements.ts';
import { memberSpecs, startMember } from '../../server/tls-testing/berth-member.ts';
import { makeTestCa } from '../../server/tls-testing/throwaway-ca.ts';

const berthBin = resolve(import.meta.dirname, '../../../bin/berth');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const SCRIPT: string[][] = [
  ['user', 'add', 'root:pw'],
  ['user', 'get', 'nobody'],
  ['user', 'get', 'root'],
  ['role', 'add', 'r1'],
  ['role', 'add', 'r1'],
  ['role', 'get', 'r1'],
  ['role', 'grant', 'r1', '--path', '/a/*', '--rw'],
  ['role', 'grant', 'r1', '--path', '/a/*', '--read'],
  ['role', 'grant', 'r1', '--path', '/b'],
  ['role', 'revoke', 'r1', '--path', '/a/*', '--write'],
  ['role', 'get', 'r1'],
  ['role', 'get'],
  ['user', 'add', 'alice:apw'],
  ['user', 'grant', 'alice', '--roles', 'r1'],
  ['user', 'grant', 'alice', '--roles', 'r1'],
  ['user', 'grant', 'alice'],
  ['user', 'get', 'alice'],
  ['user', 'grant', 'root', '--roles', 'r1'],
  ['user', 'get', 'root'],
  ['user', 'revoke', 'root', '--roles', 'nope'],
  ['user', 'list'],
  ['role', 'list'],
  ['auth', 'enable'],
  ['auth', 'enable'],
  ['-u', 'alice:apw', 'set', '/a/x', '1'],
  ['-u', 'alice:apw', 'get', '/a/x'],
  ['-u', 'root:pw', 'set', '/a/x', '2'],
  ['-u', 'alice:apw', 'get', '/a/x'],
  ['-u', 'alice:apw', 'auth', 'disable'],
  ['-u', 'root:pw', 'role', 'list'],
  ['-u', 'root:pw', 'auth', 'disable'],
  ['auth', 'disable'],
  ['user', 'remove', 'nobody'],
  ['role', 'remove', 'nope'],
  ['role', 'remove', 'r1'],
  ['user', 'remove', 'alice'],
  ['user', 'list'],
];

/** etcdctl complains about stty when stdin is not a terminal; that noise is not output. */
const clean = (s: string) => s.replace(/stty: .*\n/g, '').replace(/\[\d+\]/g, '[N]');

function runCtl(cmd: string, pre: string[], url: string, args: string[]): Run {
  const r = spawnSync(cmd, [...pre, '--endpoints', url, ...args], { encoding: 'utf8', timeout: 20_000, input: '', env: { ...process.env, ETCDCTL_API: '2' } });
  return { code: r.status, stdout: clean(r.stdout), stderr: clean(r.stderr) };
}

// The same auth script three ways: `berth ctl` against berth, `etcdctl` (v2) against berth,
// and `etcdctl` against etcd 3.4. Output, errors and exit codes must be equal, line for line.
test('berth ctl user/role/auth prints what etcdctl prints, and etcdctl works against berth', { timeout: 180_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const [berth, berthForEtcdctl, etcd] = await Promise.all([startCluster('berth', 1), startCluster('berth', 1), startCluster('etcd', 1)]);
  t.after(async () => {
    await Promise.all([berth.stop(), berthForEtcdctl.stop(), etcd.stop()]);
  });
  for (const args of SCRIPT) {
    const fromBerth = runCtl(process.execPath, [berthBin, 'ctl'], berth.clientUrls[0]!, args);
    const etcdctlOnBerth = runCtl('etcdctl', [], berthForEtcdctl.clientUrls[0]!, args);
    const fromEtcd = runCtl('etcdctl', [], etcd.clientUrls[0]!, args);
    assert.deepEqual(fromBerth, fromEtcd, `berth ctl: ${args.join(' ')}`);
    assert.deepEqual(etcdctlOnBerth, fromEtcd, `etcdctl on berth: ${args.join(' ')}`);
  }
});

test('user/role/auth on unreachable endpoints: the cluster error report and exit code etcdctl gives', async (t) => {
  if (!requireEtcd(t)) return;
  const url = `http://127.0.0.1:${await freePort()}`;
  for (const args of [['user', 'list'], ['role', 'add', 'r'], ['auth', 'enable']]) {
    assert.deepEqual(runCtl(process.execPath, [berthBin, 'ctl'], url, args), runCtl('etcdctl', [], url, args), args.join(' '));
  }
});

test('user/role/auth use the TLS flags, -u without a password and a prompted password, all read from piped stdin', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-ctl-auth-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = makeTestCa(dir, 'ctl');
  const server = ca.issue('127.0.0.1');
  const client = ca.issue('someone');
  const [spec] = await memberSpecs('ctl-tls', 1, 'https', 'http');
  const member = await startMember(spec!, [spec!], ['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', ca.cert, '--client-cert-auth']);
  t.after(() => member.stop());
  const tls = ['--ca-file', ca.cert, '--cert-file', client.cert, '--key-file', client.key];
  const ctl = (args: string[], input = '') => {
    const r = spawnSync(process.execPath, [berthBin, 'ctl', '--endpoints', spec!.clientUrl, ...args], { encoding: 'utf8', timeout: 20_000, input });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  await waitFor('berth over https', () => ctl([...tls, 'user', 'list']).code === 0, 30_000);
  assert.match(ctl(['user', 'list']).stderr, /certificate|unavailable/, 'without --ca-file the server is not trusted');
  assert.deepEqual(ctl([...tls, 'user', 'add', 'root:rootpw']), { code: 0, stdout: 'User root created\n', stderr: '' });
  assert.equal(ctl([...tls, 'auth', 'enable']).code, 0);
  // Two prompts, two piped lines: the -u password, then the new user's.
  const add = ctl([...tls, '-u', 'root', 'user', 'add', 'bob'], 'rootpw\nbobpw\n');
  assert.deepEqual({ code: add.code, stdout: add.stdout }, { code: 0, stdout: 'New password: User bob created\n' }, add.stderr);
  const asBob = spawnSync(process.execPath, [berthBin, 'ctl', '--endpoints', spec!.clientUrl, ...tls, '-u', 'bob:bobpw', 'user', 'list'], { encoding: 'utf8', timeout: 20_000 });
  assert.match(asBob.stderr, /Insufficient credentials/, 'bob has the password he was given, and is not root');
  assert.deepEqual(ctl([...tls, '-u', 'root:rootpw', 'user', 'list']).stdout, 'bob\nroot\n');
});
