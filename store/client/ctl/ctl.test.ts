import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { startBerthAndEtcd } from '../../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../../lib/testing/requirements.ts';

const berth = resolve(import.meta.dirname, '../../../bin/berth');

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

const normalize = (s: string) =>
  s
    .replace(/\[\d+\]/g, '[N]')
    .replace(/(Index|TTL): \d+/g, '$1: N')
    .replace(/"(createdIndex|modifiedIndex|ttl)":\d+/g, '"$1":N')
    .replace(/"expiration":"[^"]+"/g, '"expiration":"T"')
    .replace(/\d{20}/g, '<inorder>');

function run(bin: 'berth' | 'etcdctl', endpoint: string, args: string[]): Out {
  const [cmd, pre] = bin === 'berth' ? [process.execPath, [berth, 'ctl']] : ['etcdctl', []];
  const r = spawnSync(cmd, [...pre, '--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '2' }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: normalize(r.stdout), stderr: normalize(r.stderr) };
}

const under = (prefix: string) => (a: string) => (a === '/c' ? prefix : a.replace(/^\/c\//, `${prefix}/`));

const COMMANDS: string[][] = [
  ['set', '/c/a', '1'],
  ['get', '/c/a'],
  ['-o', 'extended', 'get', '/c/a'],
  ['-o', 'json', 'get', '/c/a'],
  ['-o', 'extended', 'set', '/c/t', 'v', '--ttl', '100'],
  ['-o', 'json', 'set', '/c/j', 'v'],
  ['mk', '/c/a', 'again'],
  ['mk', '/c/b', 'new'],
  ['mkdir', '/c/d'],
  ['mkdir', '/c/d'],
  ['-o', 'extended', 'mkdir', '/c/d2'],
  ['setdir', '/c/d3'],
  ['setdir', '/c/a'],
  ['update', '/c/a', '2'],
  ['update', '/c/none', '2'],
  ['updatedir', '/c/d3', '--ttl', '100'],
  ['set', '/c/d/x', 'in'],
  ['set', '/c/d/y/z', 'deep'],
  ['get', '/c/d'],
  ['ls', '--sort', '/c'],
  ['ls', '-r', '--sort', '/c'],
  ['ls', '-r', '--sort', '-p', '/c'],
  ['ls', '/c/a'],
  ['ls', '/c/none'],
  ['set', '/c/a', '3', '--swap-with-value', '2'],
  ['set', '/c/a', '4', '--swap-with-value', 'wrong'],
  ['rm', '/c/a', '--with-value', 'wrong'],
  ['rm', '/c/a'],
  ['-o', 'extended', 'rm', '/c/b'],
  ['get', '/c/a'],
  ['rm', '/c/d'],
  ['rmdir', '/c/d'],
  ['rm', '-r', '/c/d'],
  ['rmdir', '/c/d2'],
  ['ls', '--sort', '/c'],
];

test(`berth ctl and etcdctl print the same for ${COMMANDS.length} commands`, { timeout: 180_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  assert.ok(COMMANDS.length >= 30);
  const { berth: b, etcd: e } = await startBerthAndEtcd(t);
  for (const cmd of COMMANDS) {
    // Both tools talk to the same store so only the tool differs; the store is etcd here and
    // berth in the next test.
    const ours = run('berth', e.clientUrls[0]!, cmd.map(under('/ours')));
    const theirs = run('etcdctl', e.clientUrls[0]!, cmd.map(under('/theirs')));
    assert.deepEqual(ours, JSON.parse(JSON.stringify(theirs).replaceAll('/theirs', '/ours')), `berth ctl ${cmd.join(' ')}`);
  }
  for (const cmd of COMMANDS) {
    const ours = run('berth', b.clientUrls[0]!, cmd.map(under('/ours')));
    const theirs = run('etcdctl', b.clientUrls[0]!, cmd.map(under('/theirs')));
    assert.deepEqual(ours, JSON.parse(JSON.stringify(theirs).replaceAll('/theirs', '/ours')), `against berth: ${cmd.join(' ')}`);
  }
  const bad = run('berth', 'http://127.0.0.1:1', ['get', '/x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cluster is unavailable or misconfigured/);
});
