import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import { EtcdAdapter } from './etcd-adapter.ts';
import { ServiceMissingError } from './errors.ts';
import { servicesFor } from './services-from-container.ts';
import { container, serviceOptions } from './test-fixtures.ts';
import { serviceMeta } from './types.ts';

const web = servicesFor(container(), serviceOptions())[0]!;

test('register writes ip:port and hidden metadata with the TTL; a listing of the service shows only ip:port', async () => {
  const kv = new MemoryKvBackend();
  const adapter = new EtcdAdapter(kv, '/services', 30);
  await adapter.register(web);
  const value = await kv.get('/services/nginx/h1:web1:80');
  assert.equal(value.node?.value, '10.0.0.1:32768');
  assert.equal(value.node?.ttl, 30);
  const listing = await kv.get('/services/nginx', { recursive: true });
  assert.deepEqual(listing.node?.nodes?.map((n) => n.key), ['/services/nginx/h1:web1:80'], '_meta is hidden');
  const meta = JSON.parse((await kv.get('/services/nginx/_meta/h1:web1:80')).node!.value!);
  assert.equal(meta.hostId, 'h1');
  assert.equal(meta.container.name, 'web1');
  assert.deepEqual(await adapter.services(), [{ name: 'nginx', id: 'h1:web1:80', value: '10.0.0.1:32768', meta: serviceMeta(web) }]);
});

test('refresh keeps the value; a missing entry raises ServiceMissingError', async () => {
  const kv = new MemoryKvBackend();
  const adapter = new EtcdAdapter(kv, '/services', 30);
  await assert.rejects(adapter.refresh(web), ServiceMissingError);
  await adapter.register(web);
  await adapter.refresh(web);
  assert.equal((await kv.get('/services/nginx/h1:web1:80')).node?.value, '10.0.0.1:32768');
});

test('deregister removes both keys and is idempotent; services() of an empty store is empty', async () => {
  const kv = new MemoryKvBackend();
  const adapter = new EtcdAdapter(kv, '/svc', 0);
  assert.deepEqual(await adapter.services(), []);
  await adapter.register(web);
  assert.equal((await kv.get('/svc/nginx/h1:web1:80')).node?.ttl, undefined, 'ttl 0: no expiry');
  await adapter.deregister(web);
  await adapter.deregister(web);
  assert.deepEqual(await adapter.services(), []);
  await assert.rejects(kv.get('/svc/nginx/_meta/h1:web1:80'));
});
