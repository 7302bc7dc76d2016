import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../../lib/testing/requirements.ts';

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
