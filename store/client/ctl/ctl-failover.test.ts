import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../../lib/testing/requirements.ts';
import { HttpKvBackend } from '../http-backend.ts';
import { setSurely } from '../recipes/testing/write-surely.ts';
import { startTool, type RunningTool, type Tool } from './differential.ts';

test('watch --forever keeps printing after the member it was given dies (endpoint sync), like etcdctl', { timeout: 120_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const cluster = await startCluster('berth', 3);
  t.after(() => cluster.stop());
  const [node0, node1, node2] = cluster.members;
  const kv = new HttpKvBackend({ endpoints: [node1!.clientUrl, node2!.clientUrl] });
  t.after(() => kv.close());
  const tools: [Tool, string][] = [['berth', '/ours'], ['etcdctl', '/theirs']];
  const running = new Map<Tool, RunningTool>();
  for (const [tool, p] of tools) running.set(tool, startTool(tool, ['--endpoints', node0!.clientUrl, 'watch', '--forever', '-r', `${p}/fo`]));
  t.after(() => Promise.all([...running.values()].map((r) => r.kill())));
  // Both are listening once each has printed a probe.
  for (let i = 0; ![...running.values()].every((r) => r.output().stdout.includes('probe')); i++) {
    assert.ok(i < 100, 'a watch never started');
    for (const [, p] of tools) await kv.set(`${p}/fo/probe`, `probe${i}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 300));
  const skip = new Map([...running].map(([tool, r]) => [tool, r.output().stdout.length]));
  await cluster.kill(node0!.name, 'SIGKILL');
  for (const [, p] of tools) for (const v of ['a', 'b', 'end']) await setSurely(kv, `${p}/fo/${v}`, v);
  for (const r of running.values()) await r.waitFor((s) => s.includes('\nend\n'), 30_000);
  const after = (tool: Tool) => running.get(tool)!.output().stdout.slice(skip.get(tool)).replaceAll('/theirs', '/ours');
  assert.equal(after('berth'), after('etcdctl'));
  assert.equal(after('berth'), '[set] /ours/fo/a\na\n[set] /ours/fo/b\nb\n[set] /ours/fo/end\nend\n');
});
