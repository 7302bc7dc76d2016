import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../lib/errors.ts';
import { loadConfig } from './config.ts';

test('defaults follow the issue: ttl 30, refresh 10, wait-for-port on, deregister always', () => {
  const loaded = loadConfig(['http://127.0.0.1:2379/services'], {});
  assert.ok('config' in loaded);
  assert.equal(loaded.config.ttl, 30);
  assert.equal(loaded.config.ttlRefresh, 10);
  assert.equal(loaded.config.waitForPort, true);
  assert.equal(loaded.config.deregister, 'always');
  assert.equal(loaded.url, 'http://127.0.0.1:2379/services');
});

test('flags beat BERTH_* env; bad combinations name the flag', () => {
  const loaded = loadConfig(['--ttl', '6', 'etcd://h:1/s'], { BERTH_TTL: '9', BERTH_TTL_REFRESH: '2', BERTH_TAGS: 'a,b' });
  assert.ok('config' in loaded);
  assert.equal(loaded.config.ttl, 6);
  assert.equal(loaded.config.ttlRefresh, 2);
  assert.deepEqual(loaded.config.tags, ['a', 'b']);
  assert.throws(() => loadConfig(['--ttl', '5', '--ttl-refresh', '5', 'http://h:1'], {}), /--ttl-refresh/);
  assert.throws(() => loadConfig([], {}), ConfigError);
  assert.throws(() => loadConfig(['--deregister', 'never', 'http://h:1'], {}), /--deregister/);
  assert.throws(() => loadConfig(['--host-id', 'a/b', 'http://h:1'], {}), /--host-id/);
  assert.ok('help' in loadConfig(['--help'], {}));
});
