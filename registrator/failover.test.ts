// Several comma-separated store URLs fail over: a 3-node berth cluster loses the member the
// registrator talks to, and registration goes on through the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureBusyboxImage, removeContainers, startBusybox } from '../lib/testing/docker.ts';
import { waitFor, type TestProcess } from '../lib/testing/process.ts';
import { requireDocker } from '../lib/testing/requirements.ts';
import { startCluster } from '../lib/testing/store-cluster.ts';
import { startRegistrator, storeEntries } from './testing/harness.ts';

test('registrator fails over to the next store endpoint when its member dies', { timeout: 90_000 }, async (t) => {
  if (!requireDocker(t)) return;
  const prefix = 'berth-reg-failover-';
  await removeContainers(prefix);
  await ensureBusyboxImage();
  const cluster = await startCluster('berth', 3);
  let registrator: TestProcess | undefined;
  try {
    const urls = cluster.clientUrls.map((u) => `${u}/services`).join(',');
    // startRegistrator appends /services to its URL argument: give it the list without the last suffix.
    registrator = await startRegistrator(urls.slice(0, -'/services'.length), ['--host-id', 'fo', '--ip', '127.0.0.1', '--ttl', '10', '--ttl-refresh', '1', '--require-label', 'berth-reg.run=failover']);
    const labels = { 'berth-reg.run': 'failover' };
    const a = await startBusybox({ name: `${prefix}a`, publish: [80], labels });
    const survivors = cluster.clientUrls.slice(1);
    await waitFor('key of a', async () => (await storeEntries(survivors[0]!)).has(`berth-test-busybox/fo:${a.name}:80`), 3000, 20);
    await cluster.kill(cluster.members[0]!.name);
    const killedAt = performance.now();
    const b = await startBusybox({ name: `${prefix}b`, publish: [80], labels });
    await waitFor('key of b through a surviving member', async () => (await storeEntries(survivors[1]!)).get(`berth-test-busybox/fo:${b.name}:80`) === `127.0.0.1:${b.hostPorts[80]}`, 10_000, 50);
    const ms = Math.round(performance.now() - killedAt);
    await b.stop(0);
    await waitFor('key of b gone', async () => !(await storeEntries(survivors[0]!)).has(`berth-test-busybox/fo:${b.name}:80`), 5000, 50);
    // a's refreshes (refresh=true bumps modifiedIndex) keep going through the survivors.
    const indexOfA = async () => {
      const res = await fetch(`${survivors[0]}/v2/keys/services/berth-test-busybox/fo:${a.name}:80`);
      return res.status === 200 ? ((await res.json()) as { node: { modifiedIndex: number } }).node.modifiedIndex : -1;
    };
    const before = await indexOfA();
    assert.ok(before > 0, 'a is still registered');
    await waitFor('a refreshed through a survivor', async () => (await indexOfA()) > before, 5000, 100);
    t.diagnostic(`member 0 killed -> next registration visible on the survivors after ${ms} ms`);
  } finally {
    await registrator?.stop('SIGKILL');
    await removeContainers(prefix);
    await cluster.stop();
  }
});
