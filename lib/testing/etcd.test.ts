import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRealEtcd } from './etcd.ts';
import { requireEtcd } from './requirements.ts';

test('startRealEtcd gives a v2-enabled etcd on loopback and stops it by PID', async (t) => {
  if (!requireEtcd(t)) return;
  const etcd = await startRealEtcd();
  try {
    const res = await fetch(`${etcd.url}/v2/keys/probe`, { method: 'PUT', body: new URLSearchParams({ value: 'x' }) });
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as { node: { value: string } }).node.value, 'x');
  } finally {
    await etcd.stop();
  }
  assert.throws(() => process.kill(etcd.process.pid, 0));
});
