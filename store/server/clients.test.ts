import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { startCluster, type StoreCluster, startBerthAndEtcd } from '../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../lib/testing/requirements.ts';

const require = createRequire(import.meta.url);

interface CtlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Indexes and times differ between stores; everything else etcdctl prints must not. */
function normalize(s: string): string {
  return s
    .replace(/\[\d+\]/g, '[N]')
    .replace(/(Index|TTL): \d+/g, '$1: N')
    .replace(/\d{20}/g, '<inorder>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
}

function ctl(url: string, args: string[]): CtlResult {
  const r = spawnSync('etcdctl', ['--endpoints', url, ...args], { env: { ...process.env, ETCDCTL_API: '2' }, encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, stdout: normalize(r.stdout), stderr: normalize(r.stderr) };
}

const COMMANDS: string[][] = [
  ['set', '/ctl/a', '1'],
  ['get', '/ctl/a'],
  ['set', '/ctl/a', '2'],
  ['get', '/ctl/a', '-o', 'extended'],
  ['get', '/ctl/a', '-o', 'json'],
  ['mk', '/ctl/a', 'again'],
  ['mk', '/ctl/b', 'new'],
  ['mkdir', '/ctl/dir'],
  ['mkdir', '/ctl/dir'],
  ['setdir', '/ctl/dir2'],
  ['update', '/ctl/a', '3'],
  ['update', '/ctl/missing', '3'],
  ['updatedir', '/ctl/dir2', '--ttl', '100'],
  ['set', '/ctl/dir/x', 'inside'],
  ['set', '/ctl/dir/y/z', 'deeper'],
  ['ls', '/ctl'],
  ['ls', '-r', '--sort', '/ctl'],
  ['ls', '-r', '--sort', '-p', '/ctl'],
  ['set', '/ctl/t', 'v', '--ttl', '100'],
  ['get', '/ctl/t', '-o', 'extended'],
  ['set', '/ctl/a', '4', '--swap-with-value', '3'],
  ['set', '/ctl/a', '5', '--swap-with-value', 'nope'],
  ['rm', '/ctl/a', '--with-value', 'nope'],
  ['rm', '/ctl/a'],
  ['get', '/ctl/a'],
  ['rm', '/ctl/dir'],
  ['rmdir', '/ctl/dir'],
  ['rm', '-r', '/ctl/dir'],
  ['ls', '/ctl/dir'],
  ['rmdir', '/ctl/dir2'],
  ['ls', '--sort', '/ctl'],
];

test('etcdctl (v2) gives the same output and exit codes against berth as against etcd 3.4', { timeout: 180_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const { berth, etcd } = await startBerthAndEtcd(t);
  // etcd lists a directory in Go map order unless --sort is given: compare those as sets.
  const unordered = (cmd: string[], r: CtlResult) => (cmd[0] === 'ls' && !cmd.includes('--sort') ? { ...r, stdout: r.stdout.split('\n').sort().join('\n') } : r);
  for (const cmd of COMMANDS) {
    const b = unordered(cmd, ctl(berth.clientUrls[0]!, cmd));
    const e = unordered(cmd, ctl(etcd.clientUrls[0]!, cmd));
    assert.deepEqual(b, e, `etcdctl ${cmd.join(' ')}`);
  }
});

async function watchOnce(cluster: StoreCluster, key: string, trigger: () => void): Promise<CtlResult> {
  const child = spawn('etcdctl', ['--endpoints', cluster.clientUrls[0]!, 'watch', key], { env: { ...process.env, ETCDCTL_API: '2' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  await new Promise((r) => setTimeout(r, 500)); // let the long poll reach the store
  trigger();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, stdout: normalize(stdout), stderr: normalize(stderr) };
}

test('etcdctl watch sees a change on berth as on etcd', { timeout: 120_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const { berth, etcd } = await startBerthAndEtcd(t);
  const results = [];
  for (const c of [berth, etcd]) {
    results.push(await watchOnce(c, '/w/k', () => ctl(c.clientUrls[0]!, ['set', '/w/k', 'changed'])));
  }
  assert.deepEqual(results[0], results[1]);
  assert.equal(results[0]!.stdout.trim(), 'changed');

});

type Cb<T> = (err: { errorCode?: number } | null, res: T) => void;
interface NodeEtcd {
  set(k: string, v: string, opts: object, cb: Cb<{ node: { value: string } }>): void;
  get(k: string, opts: object, cb: Cb<{ node: { value?: string; nodes?: { key: string }[] } }>): void;
  mkdir(k: string, cb: Cb<unknown>): void;
  create(dir: string, v: string, cb: Cb<{ node: { key: string } }>): void;
  compareAndSwap(k: string, v: string, old: string, cb: Cb<{ action: string }>): void;
  del(k: string, cb: Cb<unknown>): void;
  rmdir(k: string, opts: object, cb: Cb<unknown>): void;
  watcher(k: string, index?: number | null, opts?: object): { on(ev: string, f: (v: { action: string; node: { value: string } }) => void): void; stop(): void };
}

function call<T>(f: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, res) => (err ? reject(Object.assign(new Error('etcd error'), err)) : resolve(res))));
}

test('node-etcd works against berth', { timeout: 60_000 }, async (t) => {
  const berth = await startCluster('berth', 1);
  t.after(() => berth.stop());
  const Etcd = require('node-etcd') as new (hosts: string[]) => NodeEtcd;
  const etcd = new Etcd([berth.clientUrls[0]!.replace('http://', '')]);
  assert.equal((await call<{ node: { value: string } }>((cb) => etcd.set('ne/a', 'one', {}, cb))).node.value, 'one');
  assert.equal((await call<{ node: { value?: string } }>((cb) => etcd.get('ne/a', {}, cb))).node.value, 'one');
  await call((cb) => etcd.mkdir('ne/dir', cb));
  const created = await call<{ node: { key: string } }>((cb) => etcd.create('ne/queue', 'job', cb));
  assert.match(created.node.key, /^\/ne\/queue\/\d{20}$/);
  assert.equal((await call<{ action: string }>((cb) => etcd.compareAndSwap('ne/a', 'two', 'one', cb))).action, 'compareAndSwap');
  await assert.rejects(call((cb) => etcd.compareAndSwap('ne/a', 'three', 'one', cb)), (e: { errorCode?: number }) => e.errorCode === 101);
  const listing = await call<{ node: { nodes?: { key: string }[] } }>((cb) => etcd.get('ne', { recursive: true, sorted: true }, cb));
  assert.deepEqual(listing.node.nodes?.map((n) => n.key), ['/ne/a', '/ne/dir', '/ne/queue']);
  const w = etcd.watcher('ne/watched');
  t.after(() => w.stop());
  const change = new Promise<{ action: string; node: { value: string } }>((r) => w.on('change', r));
  await new Promise((r) => setTimeout(r, 300));
  await call((cb) => etcd.set('ne/watched', 'seen', {}, cb));
  const ev = await change;
  assert.equal(ev.node.value, 'seen');
  await call((cb) => etcd.del('ne/a', cb));
  await assert.rejects(call((cb) => etcd.get('ne/a', {}, cb)), (e: { errorCode?: number }) => e.errorCode === 100);
  await call((cb) => etcd.rmdir('ne', { recursive: true }, cb));
});
