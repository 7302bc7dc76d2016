/** The command itself against a real berth store: --dry-run prints and writes nothing; --once exits 1 on a failed check. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { startCluster } from '../lib/testing/store-cluster.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';

const berth = resolve(import.meta.dirname, '../bin/berth');
const templates = resolve(import.meta.dirname, '../templates');

test('berth proxy-reloader --dry-run and --once', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-cli-'));
  const cluster = await startCluster('berth', 1);
  const kv = new HttpKvBackend({ endpoints: cluster.clientUrls });
  t.after(async () => {
    await kv.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await kv.set('/services/web/a', '10.0.0.1:80');
  await kv.set('/services/web/_meta/a', '{"tags":["blue"]}');
  const run = (...args: string[]) => spawnSync(berth, ['proxy-reloader', '--store', cluster.clientUrls[0]!, '--log-level', 'error', ...args], { encoding: 'utf8', timeout: 30_000 });

  const dest = join(dir, 'services.json');
  const dry = run('--template', `${templates}/services.json.hbs:${dest}`, '--dry-run');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /"web": \[\{"id": "a", "address": "10\.0\.0\.1:80", "tags": \["blue"\] \}\]/);
  assert.equal(existsSync(dest), false, 'dry run writes nothing');

  const ok = run('--template', `${templates}/upstream-list.txt.hbs:${join(dir, 'list.txt')}`, '--once');
  assert.equal(ok.status, 0, ok.stderr);
  const bad = run('--template', `${templates}/upstream-list.txt.hbs:${join(dir, 'other.txt')}`, '--check', 'false', '--once');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /check failed, keeping the previous config/);
  assert.equal(existsSync(join(dir, 'other.txt')), false);

  const usage = run('--route', 'nonsense');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--route nonsense: expected host=\/services\/name/);
});
