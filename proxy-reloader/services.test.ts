import assert from 'node:assert/strict';
import { test } from 'node:test';
import { servicesUnder, splitAddress, upstreamsIn } from './services.ts';

const keys = new Map([
  ['/services/web/h1:web1:80', '10.0.0.2:80'],
  ['/services/web/h1:web2:80', '10.0.0.3:80'],
  ['/services/web/_meta/h1:web1:80', '{"tags":["blue","canary"],"attrs":{"weight":"3"}}'],
  ['/services/web/junk', 'not an address'],
  ['/services/api/v1/h2:api:8080', '10.0.0.9:8080'],
  ['/config/x', '1'],
]);

test('upstreamsIn reads ip:port leaves, sorted by id, with _meta tags and attrs', () => {
  const ups = upstreamsIn(keys, '/services/web/');
  assert.deepEqual(ups.map((u) => u.address), ['10.0.0.2:80', '10.0.0.3:80']);
  assert.deepEqual(ups[0]!.tags, ['blue', 'canary']);
  assert.deepEqual(ups[0]!.attrs, { weight: '3' });
  assert.deepEqual(ups[1]!.tags, []);
});

test('servicesUnder finds nested service dirs and skips hidden ones', () => {
  const s = servicesUnder(keys, '/services');
  assert.deepEqual(s.map((x) => [x.name, x.upstreams.length]), [['api/v1', 1], ['web', 2]]);
});

test('splitAddress accepts ipv4, names and [ipv6], rejects bad ports', () => {
  assert.deepEqual(splitAddress('10.0.0.1:80'), { host: '10.0.0.1', port: 80 });
  assert.deepEqual(splitAddress('[::1]:8080'), { host: '[::1]', port: 8080 });
  assert.equal(splitAddress('10.0.0.1:0'), null);
  assert.equal(splitAddress('10.0.0.1:70000'), null);
  assert.equal(splitAddress('nonsense'), null);
});
