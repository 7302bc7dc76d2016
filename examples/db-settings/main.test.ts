import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { ctl, startExampleProcess, waitForOutput } from '../common/testing.ts';
import { connectionString, parseDbSettings } from './main.ts';

test('db settings: validation names the bad key', () => {
  assert.equal(connectionString(parseDbSettings({ host: 'db1', database: 'shop' })), 'postgres://app@db1:5432/shop?sslmode=require');
  assert.throws(() => parseDbSettings({ database: 'shop' }), /host is required/);
  assert.throws(() => parseDbSettings({ host: 'h', database: 'd', port: '99999' }), /port must be 1-65535/);
  assert.throws(() => parseDbSettings({ host: 'h', database: 'd', sslmode: 'maybe' }), /sslmode must be one of/);
});

test('db-settings example: reads its connection details, reconnects on change, refuses bad values', { timeout: 60_000 }, async (t) => {
  const store = await startCluster('berth', 1);
  t.after(() => store.stop());
  const url = store.clientUrls[0]!;
  const missing = startExampleProcess('db-settings/main.ts', ['--endpoints', url]);
  await waitForOutput(missing, /cannot start: host is required/);
  assert.equal(await missing.exited, 1);
  ctl(url, 'set', '/examples/db/host', 'db1.internal');
  ctl(url, 'set', '/examples/db/database', 'shop');
  const app = startExampleProcess('db-settings/main.ts', ['--endpoints', url]);
  t.after(() => app.stop());
  await waitForOutput(app, /connected to postgres:\/\/app@db1\.internal:5432\/shop\?sslmode=require/);
  ctl(url, 'set', '/examples/db/host', 'db2.internal');
  await waitForOutput(app, /host changed: reconnecting to postgres:\/\/app@db2\.internal:5432\/shop/);
  ctl(url, 'set', '/examples/db/port', 'not-a-port');
  await waitForOutput(app, /refused new settings: port must be 1-65535, got "not-a-port"; still using postgres:\/\/app@db2\.internal:5432/);
  ctl(url, 'set', '/examples/db/port', '6432');
  await waitForOutput(app, /port changed: reconnecting to postgres:\/\/app@db2\.internal:6432\/shop/);
});
