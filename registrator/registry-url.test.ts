import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../lib/errors.ts';
import { UnknownRegistryError } from './errors.ts';
import { parseRegistryUrl } from './registry-url.ts';

test('the path is the prefix; etcd:// maps to http://, etcds:// to https://', () => {
  assert.deepEqual(parseRegistryUrl('http://127.0.0.1:2379/services'), { endpoints: ['http://127.0.0.1:2379'], prefix: '/services' });
  assert.deepEqual(parseRegistryUrl('etcd://10.0.0.1:2379/apps/web/'), { endpoints: ['http://10.0.0.1:2379'], prefix: '/apps/web' });
  assert.deepEqual(parseRegistryUrl('etcds://h:2379'), { endpoints: ['https://h:2379'], prefix: '/services' });
});

test('comma-separated endpoints fail over and share one prefix; bare host:port inherits the scheme', () => {
  assert.deepEqual(parseRegistryUrl('https://a:2379,b:2379/services'), { endpoints: ['https://a:2379', 'https://b:2379'], prefix: '/services' });
  assert.throws(() => parseRegistryUrl('http://a:1/x,http://b:1/y'), ConfigError);
});

test('unknown schemes and junk are named', () => {
  assert.throws(() => parseRegistryUrl('consul://a:8500'), UnknownRegistryError);
  assert.throws(() => parseRegistryUrl(''), ConfigError);
});
