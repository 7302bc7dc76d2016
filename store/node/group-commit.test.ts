import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { startCluster } from '../../lib/testing/store-cluster.ts';

const CLIENTS = 64;

async function walWrites(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^etcd_disk_wal_fsync_duration_seconds_count (\d+)/m.exec(text);
  assert.ok(m, 'the fsync histogram is on /metrics');
  return Number(m[1]);
}

function send(agent: Agent, url: URL, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) };
    const r = request({ agent, host: url.hostname, port: url.port, method, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    r.end(body);
  });
}

// The Ready loop must wait for the turn's I/O before it runs, blocking write or not: woken in a
// microtask, it wrote each request on its own (64 writes for 64).
test('PUTs that arrive together share durable WAL writes (group commit)', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = new URL(cluster.clientUrls[0]!);
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  t.after(() => agent.destroy());
  // Open every connection first, so the PUTs below leave the client in one burst.
  await Promise.all(Array.from({ length: CLIENTS }, () => send(agent, url, 'GET', '/v2/keys/')));
  for (let round = 0; round < 3; round++) {
    const before = await walWrites(url.origin);
    const codes = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => send(agent, url, 'PUT', `/v2/keys/group/${round}-${i}`, 'value=v')));
    assert.deepEqual(new Set(codes), new Set([201]));
    const writes = (await walWrites(url.origin)) - before;
    console.log(`round ${round}: ${CLIENTS} PUTs took ${writes} durable WAL writes`);
    assert.ok(writes <= CLIENTS / 4, `${CLIENTS} concurrent PUTs took ${writes} durable writes; group commit should need far fewer`);
  }
});
