import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerthAndEtcd } from '../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../lib/testing/requirements.ts';
import { probe, type ProbeOutcome } from './auth-testing/probe.ts';
import { SETUP, adminTable, keyTable, type ProbeRequest } from './auth-testing/scenario.ts';

async function runAll(url: string, requests: ProbeRequest[]): Promise<ProbeOutcome[]> {
  const out: ProbeOutcome[] = [];
  for (const r of requests) out.push(await probe(url, r));
  return out;
}

// The same auth setup and the same user × path × method table go to `berth store` and to a
// real etcd 3.4 with --enable-v2; every status and (index-free) body must be equal.
test('auth differential: users, roles, guest and key patterns answer as etcd 3.4', { timeout: 300_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const { berth, etcd } = await startBerthAndEtcd(t);
  const b = berth.clientUrls[0]!;
  const e = etcd.clientUrls[0]!;
  for (const [name, requests] of [['setup', SETUP], ['keys table', keyTable()], ['admin table', adminTable()]] as const) {
    const [fromBerth, fromEtcd] = await Promise.all([runAll(b, requests), runAll(e, requests)]);
    const diffs = fromBerth.flatMap((x, i) => (JSON.stringify(x) === JSON.stringify(fromEtcd[i]) ? [] : [{ berth: x, etcd: fromEtcd[i] }]));
    assert.equal(diffs.length, 0, `${name}: ${diffs.length} of ${requests.length} answers differ:\n${diffs.map((d) => JSON.stringify(d)).join('\n')}`);
    const statuses = new Set(fromBerth.map((x) => x.status));
    t.diagnostic(`${name}: ${requests.length} requests, statuses ${[...statuses].sort().join(',')}`);
    if (name === 'keys table') {
      // The table exercises both sides of every check: some requests pass, some are refused.
      assert.ok(statuses.has(200) && statuses.has(401) && statuses.has(412), `statuses ${[...statuses]}`);
      const anonSecret = fromBerth.find((x) => x.request === 'anonymous GET /v2/keys/secret/s');
      assert.equal(anonSecret?.status, 401);
    }
  }
});
