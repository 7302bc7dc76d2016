import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { requireDocker } from '../lib/testing/requirements.ts';
import { BerthCluster } from './berth-cluster.ts';
import { recordScenario } from './summary.ts';
import { TEST_CLUSTER_OPTIONS, TEST_PREFIX } from './test-options.ts';

interface EtcdEvent {
  action: string;
  node: { key: string; value?: string; modifiedIndex: number };
}

/** Runs a shell line in the client container; the store is at the docker0 gateway, found from the default route. */
async function sh(client: StartedTestContainer, line: string): Promise<string> {
  const script = `gw=$(ip route | busybox awk '/^default/ {print $3}'); ${line}`;
  const r = await client.exec(['/bin/sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`in the client container, \`${line}\` exited ${r.exitCode}: ${r.output}`);
  return r.stdout;
}

test('a container on docker0 reads, writes and watches the store through the members\' published ports (busybox wget)', { timeout: 180_000 }, async (t) => {
  if (!requireDocker(t)) return;
  const cluster = new BerthCluster(3, TEST_CLUSTER_OPTIONS);
  t.after(() => cluster.stop());
  await cluster.start();
  // The same image (it has busybox); no network given, so it sits on the default bridge, docker0.
  const client = await new GenericContainer(cluster.imageTag)
    .withName(`${TEST_PREFIX}client-${randomBytes(3).toString('hex')}`)
    .withEntrypoint(['/bin/sleep'])
    .withCommand(['600'])
    .start();
  t.after(() => client.stop({ timeout: 0 }));
  const [a, b, c] = cluster.members.map((m) => m.hostPort) as [number, number, number];

  // Read what the host wrote, through member 0.
  await fetch(`${cluster.endpoints[1]}/v2/keys/config/db`, { method: 'PUT', body: new URLSearchParams({ value: 'postgres://db:5432' }) });
  const read = JSON.parse(await sh(client, `wget -qO- "http://$gw:${a}/v2/keys/config/db?quorum=true"`)) as EtcdEvent;
  assert.equal(read.node.value, 'postgres://db:5432');

  // Write (POST: an in-order key, as busybox wget only speaks GET and POST) through member 1.
  const created = JSON.parse(await sh(client, `wget -qO- --post-data 'value=from-the-container' "http://$gw:${b}/v2/keys/jobs"`)) as EtcdEvent;
  assert.equal(created.action, 'create');
  const seen = (await (await fetch(`${cluster.endpoints[2]}/v2/keys${created.node.key}?quorum=true`)).json()) as EtcdEvent;
  assert.equal(seen.node.value, 'from-the-container');

  // Watch through member 2 from the index after the container's write, so the event cannot be missed
  // even if the host's write lands before the watch is registered.
  const watching = sh(client, `wget -qO- "http://$gw:${c}/v2/keys/config/feature?wait=true&waitIndex=${created.node.modifiedIndex + 1}"`);
  await new Promise((r) => setTimeout(r, 300));
  const put = await fetch(`${cluster.endpoints[0]}/v2/keys/config/feature`, { method: 'PUT', body: new URLSearchParams({ value: 'on' }) });
  const ackedAt = performance.now();
  assert.equal(put.status, 201);
  const event = JSON.parse(await watching) as EtcdEvent;
  const watchMs = Math.round(performance.now() - ackedAt);
  assert.equal(event.action, 'set');
  assert.equal(event.node.key, '/config/feature');
  assert.equal(event.node.value, 'on');
  console.log(`  the container's watch returned ${watchMs} ms after the host's write was acknowledged (docker exec return included)`);

  recordScenario({
    scenario: 'container client over docker0',
    seed: null,
    faults: [],
    operations: 5,
    violations: 0,
    lostWrites: 0,
    notes: `busybox wget via the docker0 gateway to 3 published ports: quorum read, POST create, wait=true watch (event ${watchMs} ms after the write's ack, exec overhead included)`,
  });
});
