import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerthAndEtcd } from '../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../lib/testing/requirements.ts';
import { SEQUENCES } from './differential/sequences.ts';
import { runSequence } from './differential/run-sequence.ts';

// Every sequence runs against `berth store` and a real etcd 3.4 (--enable-v2), side by side;
// responses (status, headers, bodies) must match once indexes are made relative and times masked.
test(`differential: ${SEQUENCES.length} request sequences against berth and etcd 3.4`, { timeout: 600_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  assert.ok(SEQUENCES.length >= 60, `only ${SEQUENCES.length} sequences`);
  const { berth, etcd } = await startBerthAndEtcd(t);
  for (const [i, seq] of SEQUENCES.entries()) {
    await t.test(seq.name, async () => {
      const prefix = `/seq${i}`;
      const [b, e] = await Promise.all([runSequence(berth.clientUrls[0]!, seq, prefix), runSequence(etcd.clientUrls[0]!, seq, prefix)]);
      assert.deepEqual(b, e);
    });
  }
});
