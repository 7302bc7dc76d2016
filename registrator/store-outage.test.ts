// The store goes away and comes back: a delete it missed is retried, and after it lost its data
// every entry is written again within a refresh period. Against berth and real etcd alike.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { ensureBusyboxImage, removeContainers, startBusybox } from '../lib/testing/docker.ts';
import { requireDocker, requireEtcd } from '../lib/testing/requirements.ts';
import { startCluster, type StoreKind } from '../lib/testing/store-cluster.ts';
import { waitFor, type TestProcess } from '../lib/testing/process.ts';
import { startRegistrator, storeEntries, timeUntil } from './testing/harness.ts';

for (const kind of ['berth', 'etcd'] as StoreKind[]) {
  test(`registrator recovers from a ${kind} outage and from ${kind} losing its data`, { timeout: 90_000 }, async (t) => {
    if (!requireDocker(t)) return;
    if (kind === 'etcd' && !requireEtcd(t)) return;
    const prefix = `berth-reg-outage-${kind}-`;
    await removeContainers(prefix);
    await ensureBusyboxImage();
    const cluster = await startCluster(kind, 1);
    const member = cluster.members[0]!;
    let registrator: TestProcess | undefined;
    try {
      // TTL 20 s: far longer than the outage, so only the registrator itself can clean up or restore.
      registrator = await startRegistrator(member.clientUrl, ['--host-id', 'out', '--ip', '127.0.0.1', '--ttl', '20', '--ttl-refresh', '1', '--require-label', `berth-reg.run=${kind}`]);
      const labels = { 'berth-reg.run': kind };
      const stays = await startBusybox({ name: `${prefix}stays`, publish: [80], labels });
      const leaves = await startBusybox({ name: `${prefix}leaves`, publish: [80], labels });
      const key = (c: { name: string }) => `berth-test-busybox/out:${c.name}:80`;
      const entries = () => storeEntries(member.clientUrl);
      await timeUntil('both keys', async () => (await entries()).size === 2, 3000);

      await cluster.kill(member.name);
      await leaves.stop(0);
      await waitFor('the delete to fail while the store is down', () => /registry write failed/.test(registrator!.output()), 10_000, 50);
      await cluster.restart(member.name);
      const deleteMs = await timeUntil('missed delete retried', async () => !(await entries()).has(key(leaves)), 5000, 50);
      assert.equal((await entries()).get(key(stays)), `127.0.0.1:${stays.hostPorts[80]}`);

      await cluster.kill(member.name);
      await rm(member.dataDir, { recursive: true, force: true });
      await cluster.restart(member.name); // an empty store on the same address
      const restoreMs = await timeUntil('entry written again', async () => (await entries()).get(key(stays)) === `127.0.0.1:${stays.hostPorts[80]}`, 5000, 50);
      assert.equal((await entries()).size, 1);
      t.diagnostic(`${kind}: missed delete done ${deleteMs} ms after restart; empty store refilled ${restoreMs} ms after restart`);
    } finally {
      await registrator?.stop('SIGKILL');
      await removeContainers(prefix);
      await cluster.stop();
    }
  });
}
