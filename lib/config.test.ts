import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, formatHelp, type FlagSpec } from './config.ts';
import { ConfigError } from './errors.ts';

const specs: FlagSpec[] = [
  { name: 'data-dir', type: 'string', default: 'berth.data', help: 'where the data lives' },
  { name: 'snapshot-count', type: 'int', default: 10000, min: 1, help: 'entries between snapshots' },
  { name: 'debug', type: 'bool', default: false, help: 'verbose logs' },
  { name: 'initial-cluster-state', type: 'enum', default: 'new', choices: ['new', 'existing'], help: 'state' },
  { name: 'endpoints', type: 'list', default: ['http://127.0.0.1:2379'], help: 'endpoints' },
];

test('flags beat environment beat defaults', () => {
  const env = { BERTH_DATA_DIR: '/from/env', BERTH_SNAPSHOT_COUNT: '5' };
  const { values } = parseConfig<Record<string, unknown>>(specs, ['--data-dir=/from/flag'], env);
  assert.equal(values.dataDir, '/from/flag');
  assert.equal(values.snapshotCount, 5);
  assert.equal(values.debug, false);
  assert.deepEqual(values.endpoints, ['http://127.0.0.1:2379']);
});

test('separate values, bare booleans and lists parse', () => {
  const { values } = parseConfig<Record<string, unknown>>(
    specs,
    ['--snapshot-count', '7', '--debug', '--endpoints', 'http://a:1, http://b:2'],
    {},
  );
  assert.equal(values.snapshotCount, 7);
  assert.equal(values.debug, true);
  assert.deepEqual(values.endpoints, ['http://a:1', 'http://b:2']);
});

test('a bad flag names the flag', () => {
  assert.throws(() => parseConfig(specs, ['--snapshot-count', 'x'], {}), (e: unknown) => e instanceof ConfigError && e.flag === '--snapshot-count');
  assert.throws(() => parseConfig(specs, ['--snapshot-count=0'], {}), /at least 1/);
  assert.throws(() => parseConfig(specs, ['--no-such-flag'], {}), (e: unknown) => e instanceof ConfigError && e.flag === '--no-such-flag');
  assert.throws(() => parseConfig(specs, ['--initial-cluster-state', 'old'], {}), /new, existing/);
  assert.throws(() => parseConfig(specs, [], { BERTH_DEBUG: 'maybe' }), (e: unknown) => e instanceof ConfigError && e.flag === 'BERTH_DEBUG');
  assert.throws(() => parseConfig(specs, ['--data-dir'], {}), /needs a value/);
});

test('help lists every flag with its environment variable', () => {
  const text = formatHelp('usage: berth store [flags]', specs);
  for (const s of specs) assert.match(text, new RegExp(`--${s.name}`));
  assert.match(text, /BERTH_SNAPSHOT_COUNT/);
});
