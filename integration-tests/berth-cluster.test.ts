import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requireDocker } from '../lib/testing/requirements.ts';
import { BerthCluster } from './berth-cluster.ts';
import { TEST_CLUSTER_OPTIONS } from './test-options.ts';

async function put(url: string, key: string, value: string): Promise<number> {
  const res = await fetch(`${url}/v2/keys${key}`, { method: 'PUT', body: new URLSearchParams({ value }), signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

async function get(url: string, key: string): Promise<string | null> {
  const res = await fetch(`${url}/v2/keys${key}?quorum=true`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { node?: { value?: string } };
  return res.status === 200 ? (body.node?.value ?? null) : null;
}

function dockerNames(kind: 'ps' | 'network'): string[] {
  const args = kind === 'ps' ? ['ps', '-a', '--format', '{{.Names}}'] : ['network', 'ls', '--format', '{{.Name}}'];
  return spawnSync('docker', args, { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

test('BerthCluster: isolate, heal, kill, restart and pause act on real containers; stop leaves nothing behind', { timeout: 180_000 }, async (t) => {
  if (!requireDocker(t)) return;
  const cluster = new BerthCluster(3, TEST_CLUSTER_OPTIONS);
  t.after(() => cluster.stop());
  await cluster.start();
  assert.ok(cluster.networkName.startsWith('berth-it-'));
  const clusterPrefix = cluster.networkName.replace(/net$/, '');
  assert.equal(dockerNames('ps').filter((n) => n.startsWith(clusterPrefix)).length, 3, 'every container carries the prefix');

  const first = await cluster.waitForLeader();
  assert.equal(await put(cluster.member(first).clientUrl, '/bc/k', 'one'), 201);

  // An isolated leader loses its majority; the other two elect a new one and keep accepting writes.
  await cluster.isolate(first);
  const started = Date.now();
  let next = first;
  while (next === first && Date.now() - started < 10_000) next = (await cluster.leader()) ?? first;
  assert.notEqual(next, first, 'the majority side elected a new leader');
  console.log(`  new leader ${Date.now() - started} ms after isolating the old one`);
  assert.equal(await put(cluster.member(next).clientUrl, '/bc/k', 'two'), 200);
  const cutOff = await fetch(`${cluster.member(first).clientUrl}/v2/keys/bc/k?quorum=true`, { signal: AbortSignal.timeout(8000) }).then((r) => r.status, () => 0);
  assert.notEqual(cutOff, 200, 'the isolated member cannot serve a quorum read');
  await cluster.heal();
  assert.equal(await get(cluster.member(first).clientUrl, '/bc/k'), 'two');

  // A killed member keeps its data and catches up on what it missed.
  const victim = (next + 1) % 3;
  await cluster.kill(victim);
  assert.equal(cluster.member(victim).alive, false);
  assert.equal(await put(cluster.member(next).clientUrl, '/bc/k', 'three'), 200);
  await cluster.restart(victim);
  assert.equal(await get(cluster.member(victim).clientUrl, '/bc/k'), 'three');

  // A paused member answers nothing until unpaused.
  await cluster.pause(victim);
  const paused = await fetch(`${cluster.member(victim).clientUrl}/version`, { signal: AbortSignal.timeout(1000) }).then(() => 'answered', () => 'silent');
  assert.equal(paused, 'silent');
  await cluster.unpause(victim);
  assert.equal(await get(cluster.member(victim).clientUrl, '/bc/k'), 'three');

  await cluster.stop();
  assert.deepEqual(dockerNames('ps').filter((n) => n.startsWith(clusterPrefix)), []);
  assert.ok(!dockerNames('network').includes(cluster.networkName), 'the network is removed');
});
