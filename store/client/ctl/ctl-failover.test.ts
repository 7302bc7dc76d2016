import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { HttpKvBackend } from '../http-backend.ts';
import { setSurely } from '../recipes/testing/write-surely.ts';
import { startTool, type RunningTool } from './differential.ts';

// etcdctl 3.4 syncs too, but its watcher gives up with "unexpected EOF" when the member dies
// during a long poll; berth ctl resumes on another member from the last index it printed.
test('watch --forever keeps printing after the member it was given dies (endpoint sync); with --no-sync it cannot', { timeout: 120_000 }, async (t) => {
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  const [node0, node1, node2] = cluster.members;
  const kv = new HttpKvBackend({ endpoints: [node1!.clientUrl, node2!.clientUrl] });
  t.after(() => kv.close());
  const synced = startTool('berth', ['--endpoints', node0!.clientUrl, 'watch', '--forever', '-r', '/fo']);
  const unsynced = startTool('berth', ['--endpoints', node0!.clientUrl, '--no-sync', 'watch', '--forever', '-r', '/fo']);
  const both: RunningTool[] = [synced, unsynced];
  t.after(() => Promise.all(both.map((r) => r.kill())));
  // Both are listening once each has printed a probe.
  for (let i = 0; !both.every((r) => r.output().stdout.includes('probe')); i++) {
    assert.ok(i < 100, 'a watch never started');
    await kv.set('/fo/probe', `probe${i}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 300));
  const skip = synced.output().stdout.length;
  await cluster.kill(node0!.name, 'SIGKILL');
  for (const v of ['a', 'b', 'end']) await setSurely(kv, `/fo/${v}`, v);
  await synced.waitFor((s) => s.includes('\nend\n'), 30_000);
  assert.equal(synced.output().stdout.slice(skip), '[set] /fo/a\na\n[set] /fo/b\nb\n[set] /fo/end\nend\n');
  const failed = await unsynced.waitFor(() => false, 15_000).catch((e: Error) => e.message);
  assert.match(String(failed), /exited 4: Error: {2}client: etcd cluster is unavailable or misconfigured/);
});
