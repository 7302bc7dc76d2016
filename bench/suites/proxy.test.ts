import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireNginx } from '../../lib/testing/requirements.ts';
import { Progress } from '../progress.ts';
import { proxySuite } from './proxy.ts';

// A smoke test of the proxy suite (--quick sizes): every row carries a number. Values are not
// asserted: timing belongs to the benchmark, not to tests.
test('proxy bench suite produces its rows', { timeout: 120_000 }, async (t) => {
  if (!requireNginx(t)) return;
  const rows = await proxySuite({ quick: true, seed: 1, rowSeconds: 0.5, rounds: 1, kinds: ['berth'] }, new Progress());
  assert.equal(rows.length, 3);
  assert.ok(Number.isFinite(rows[0]!.results.berth?.value), 'direct');
  assert.ok(Number.isFinite(rows[1]!.results.berth?.value) && Number.isFinite(rows[1]!.results.etcd?.value), 'berth proxy and nginx');
  assert.equal(rows[1]!.results.berth?.errors, 0, rows[1]!.results.berth?.note);
  assert.equal(rows[1]!.results.etcd?.errors, 0, rows[1]!.results.etcd?.note);
  assert.ok(Number.isFinite(rows[2]!.results.berth?.value) && Number.isFinite(rows[2]!.results.etcd?.value), 'join latency');
});
