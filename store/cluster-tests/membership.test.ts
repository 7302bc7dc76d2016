import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { freePort } from '../../lib/testing/ports.ts';
import { httpUp, startProcess, waitFor } from '../../lib/testing/process.ts';
import { requireEtcd } from '../../lib/testing/requirements.ts';

function etcdctl(endpoints: string[], args: string[]): { code: number | null; out: string } {
  const r = spawnSync('etcdctl', ['--endpoints', endpoints.join(','), ...args], { env: { ...process.env, ETCDCTL_API: '2' }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('etcdctl keeps working against a 3-node cluster when the member it talks to is killed', { timeout: 60_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  // etcdctl's first endpoint is a follower, and that is the member killed: this is about the
  // client moving on (writes forwarded to a dying leader: leader-death-writes.test.ts).
  const leaderUrl = await cluster.leaderUrl();
  const victim = cluster.members.find((m) => m.clientUrl !== leaderUrl)!;
  const endpoints = [victim.clientUrl, ...cluster.clientUrls.filter((u) => u !== victim.clientUrl)];
  assert.equal(etcdctl(endpoints, ['set', '/ha/k', 'before']).code, 0);
  await cluster.kill(victim.name, 'SIGKILL');
  const set = etcdctl(endpoints, ['set', '/ha/k', 'after']);
  assert.equal(set.code, 0, set.out);
  const got = etcdctl(endpoints, ['get', '/ha/k']);
  assert.equal(got.out.trim(), 'after');
  const health = etcdctl(endpoints.slice(1), ['cluster-health']);
  assert.match(health.out, /cluster is degraded/);
});

test('etcdctl member list, add and remove; the new member catches up; the removed one shuts down', { timeout: 90_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  const endpoints = cluster.clientUrls;
  for (let i = 0; i < 50; i++) assert.equal(etcdctl(endpoints, ['set', `/m/k${i}`, `v${i}`]).code, 0);
  const list = etcdctl(endpoints, ['member', 'list']);
  assert.equal(list.out.trim().split('\n').length, 3);
  assert.match(list.out, /isLeader=true/);

  const peer = `http://127.0.0.1:${await freePort()}`;
  const client = `http://127.0.0.1:${await freePort()}`;
  const add = etcdctl(endpoints, ['member', 'add', 'newbie', peer]);
  assert.equal(add.code, 0, add.out);
  const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(add.out)![1]!;
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-newbie-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const newbie = startProcess(process.execPath, [resolve(import.meta.dirname, '../../bin/berth'), 'store', '--name', 'newbie', '--data-dir', dataDir, '--listen-client-urls', client, '--listen-peer-urls', peer, '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing']);
  t.after(() => newbie.stop('SIGKILL'));
  await waitFor('the new member to answer', () => httpUp(`${client}/health`), 20_000);
  await waitFor('the new member to catch up', async () => {
    const res = await fetch(`${client}/v2/keys/m/k49`);
    return res.status === 200;
  }, 20_000);
  let after = etcdctl([...endpoints, client], ['member', 'list']);
  await waitFor('the new member to publish its name and client URL', () => /name=newbie/.test((after = etcdctl([...endpoints, client], ['member', 'list'])).out), 10_000);
  assert.equal(etcdctl([client], ['set', '/m/from-newbie', 'ok']).code, 0);

  const victim = cluster.members[2]!;
  const id = new RegExp(`^(\\w+): name=${victim.name}`, 'm').exec(after.out)![1]!;
  const rmRes = etcdctl([client, ...endpoints.slice(0, 2)], ['member', 'remove', id]);
  assert.equal(rmRes.code, 0, rmRes.out);
  await waitFor('the removed member to shut down', () => victim.process.child.exitCode !== null, 15_000);
  const final = etcdctl([client, ...endpoints.slice(0, 2)], ['member', 'list']);
  assert.doesNotMatch(final.out, new RegExp(`name=${victim.name} `));
  assert.equal(etcdctl([client, ...endpoints.slice(0, 2)], ['set', '/m/after-remove', 'ok']).code, 0);
});
