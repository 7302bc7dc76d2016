import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../lib/config.ts';
import { parseConfigText } from './config-file.ts';
import { flagSpecs, settingsFrom, type RawFlags } from './flags.ts';
import { parseRoute, RouteTable } from './routes.ts';

const YAML = `
store: [http://10.0.0.1:2379, http://10.0.0.2:2379]
wait: 1s:5s
max-removal: 30%
removal-grace: 20s
templates:
  - source: nginx.hbs
    dest: out/upstreams.conf
    check: nginx -t
    reload: nginx -s reload
    mode: inplace
    perms: "0600"
    timeout: 5s
listen: 127.0.0.1:8080
routes:
  web.example: /services/web
  /api/: /services/api
`;

test('the config file: relative paths, durations, percent, routes as a map', () => {
  const f = parseConfigText(YAML, '/etc/berth');
  assert.deepEqual(f.store, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
  assert.equal(f.templates[0]!.source, '/etc/berth/nginx.hbs');
  assert.equal(f.templates[0]!.dest, '/etc/berth/out/upstreams.conf');
  assert.equal(f.templates[0]!.mode, 'inplace');
  assert.equal(f.templates[0]!.perms, 0o600);
  assert.equal(f.templates[0]!.commandTimeoutMs, 5000);
  assert.equal(f.maxRemoval, 30);
  assert.equal(f.removalGraceMs, 20_000);
  assert.deepEqual(f.routes, ['web.example=/services/web', '/api/=/services/api']);
  assert.throws(() => parseConfigText('templates:\n  - source: a\n    dest: b\n    mode: sideways\n', '/'), /templates\[0\]\.mode: rename or inplace/);
  assert.throws(() => parseConfigText('templates: [', '/', 'x.yaml'), /x\.yaml: not valid YAML/);
});

test('flags beat the environment, which beats the file, which beats defaults', () => {
  const file = parseConfigText(YAML, '/etc/berth');
  const { values } = parseConfig<RawFlags>(flagSpecs, ['--wait', '2s:3s', '--route', 'x.test=/services/x'], { BERTH_MAX_REMOVAL: '80' });
  const s = settingsFrom(values, file);
  assert.deepEqual(s.wait, { minMs: 2000, maxMs: 3000 });
  assert.equal(s.maxRemovalPct, 80);
  assert.equal(s.removalGraceMs, 20_000);
  assert.deepEqual(s.routes.map((r) => r.raw), ['x.test=/services/x'], 'flag routes replace the file routes');
  assert.deepEqual(s.listen, { host: '127.0.0.1', port: 8080 });
  const d = settingsFrom(parseConfig<RawFlags>(flagSpecs, [], {}).values, null);
  assert.deepEqual([d.store, d.watch, d.wait, d.maxRemovalPct, d.removalGraceMs], [['http://127.0.0.1:2379'], ['/services'], { minMs: 200, maxMs: 2000 }, 50, 10_000]);
  assert.throws(() => settingsFrom(parseConfig<RawFlags>(flagSpecs, ['--route', 'a=/services/a'], {}).values, null), /--listen: routes need an address/);
});

test('routes: host routes first, then the longest prefix; bad routes name the problem', () => {
  const table = new RouteTable(['web.example=/services/web', '/=/services/root', '/api/=/services/api', '/api/v2/=/services/api2'].map(parseRoute));
  assert.equal(table.match('WEB.example:8080', '/api/x')?.serviceDir, '/services/web');
  assert.equal(table.match('other', '/api/v2/x')?.serviceDir, '/services/api2');
  assert.equal(table.match('other', '/api/x')?.serviceDir, '/services/api');
  assert.equal(table.match(undefined, '/x')?.serviceDir, '/services/root');
  assert.throws(() => parseRoute('web'), /expected host=\/services\/name/);
  assert.throws(() => parseRoute('web=services/web'), /must start with \//);
  assert.throws(() => parseRoute('we b=/services/web'), /neither a host name nor a \/path prefix/);
});
