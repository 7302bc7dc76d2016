import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../lib/log.ts';
import { waitFor } from '../lib/testing/process.ts';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import type { ResourceSpec } from './resource.ts';
import type { GroupOutcome } from './template-group.ts';
import { TemplateMode } from './template-mode.ts';

const TEMPLATE = '{{get "/config/marker"}}\n{{#each (service "web")}}{{address}}\n{{else}}empty\n{{/each}}';

type Extra = Partial<ResourceSpec> | ((dest: string, reloads: string) => Partial<ResourceSpec>);

async function setup(t: import('node:test').TestContext, more: Extra = {}, guard = { pct: 100, graceMs: 0 }) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-tpl-'));
  await writeFile(join(dir, 'list.hbs'), TEMPLATE);
  const dest = join(dir, 'out.txt');
  const reloads = join(dir, 'reloads.log');
  const extra = typeof more === 'function' ? more(dest, reloads) : more;
  const kv = new MemoryKvBackend();
  const outcomes: GroupOutcome[] = [];
  const mode = new TemplateMode({
    kv,
    prefixes: ['/services', '/config'],
    resources: [{ source: join(dir, 'list.hbs'), dest, reload: `echo r >> ${reloads}`, mode: 'rename', perms: 0o644, commandTimeoutMs: 5000, vars: {}, ...extra }],
    wait: { minMs: 150, maxMs: 3000 },
    maxRemovalPct: guard.pct,
    removalGraceMs: guard.graceMs,
    dryRun: false,
    logger: silentLogger,
    onPass: (o) => outcomes.push(...o.values()),
  });
  t.after(async () => {
    await mode.stop();
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });
  const reloadCount = async () => ((await readFile(reloads, 'utf8').catch(() => '')).match(/r/g) ?? []).length;
  return { dir, dest, kv, mode, outcomes, reloadCount };
}

test('first pass renders and reloads; 50 changes in a burst give one render and one reload', async (t) => {
  const s = await setup(t);
  await s.kv.set('/config/marker', 'v1');
  await s.mode.start();
  assert.equal(await readFile(s.dest, 'utf8'), 'v1\nempty\n');
  assert.equal(await s.reloadCount(), 1);
  const passesBefore = s.mode.passes;
  for (let i = 0; i < 50; i++) await s.kv.set(`/services/web/c${String(i).padStart(2, '0')}`, `10.0.0.${i + 1}:80`);
  await waitFor('burst rendered', async () => (await readFile(s.dest, 'utf8')).split('\n').length === 52, 5000, 10);
  await new Promise((r) => setTimeout(r, 400)); // anything late would show up now
  assert.equal(s.mode.passes - passesBefore, 1, 'one render pass for the burst');
  assert.equal(await s.reloadCount(), 2, 'one reload for the burst');
});

test('an unchanged render writes nothing and does not reload', async (t) => {
  const s = await setup(t);
  await s.kv.set('/services/web/a', '10.0.0.1:80');
  await s.mode.start();
  const before = await stat(s.dest);
  await s.kv.set('/other/x', 'y'); // not watched: no pass at all
  await s.kv.set('/config/unused', 'y'); // watched, but the template does not read it: same render
  await waitFor('pass ran', () => s.mode.passes === 2, 5000, 10);
  assert.equal((await stat(s.dest)).mtimeMs, before.mtimeMs);
  assert.equal(await s.reloadCount(), 1);
});

test('a render that fails its check is not installed and nothing reloads', async (t) => {
  const s = await setup(t, { check: '! grep -q BAD {{file}}' });
  await s.kv.set('/config/marker', 'good');
  await s.mode.start();
  await s.kv.set('/config/marker', 'BAD');
  await waitFor('check failed', () => s.outcomes.some((o) => o.kind === 'check-failed'), 5000, 10);
  assert.equal(await readFile(s.dest, 'utf8'), 'good\nempty\n');
  assert.equal(await s.reloadCount(), 1);
  const dirFiles = await (await import('node:fs/promises')).readdir(s.dir);
  assert.deepEqual(dirFiles.filter((f) => f.includes('berth-')), [], 'no staged file left behind');
});

test('a failing reload rolls the files back and reloads the previous config', async (t) => {
  const s2 = await setup(t, (dest, reloads) => ({ reload: `! grep -q FAILRELOAD ${dest} && echo r >> ${reloads}` }));
  await s2.kv.set('/config/marker', 'ok');
  await s2.mode.start();
  await s2.kv.set('/config/marker', 'FAILRELOAD');
  await waitFor('reload failed', () => s2.outcomes.some((o) => o.kind === 'reload-failed'), 5000, 10);
  const failed = s2.outcomes.find((o) => o.kind === 'reload-failed');
  assert.ok(failed && failed.kind === 'reload-failed' && failed.rolledBack);
  assert.equal(await readFile(s2.dest, 'utf8'), 'ok\nempty\n');
  assert.equal(s2.mode.groupStats()[0]!.stats.rollbacks, 1);
});

test('mass removal is held for the grace period, then applied', async (t) => {
  const s = await setup(t, {}, { pct: 50, graceMs: 600 });
  for (let i = 1; i <= 4; i++) await s.kv.set(`/services/web/u${i}`, `10.0.0.${i}:80`);
  await s.mode.start();
  await s.kv.delete('/services/web', { recursive: true });
  const t0 = Date.now();
  await waitFor('a pass after the removal', () => s.mode.passes >= 2, 5000, 10);
  assert.equal((await readFile(s.dest, 'utf8')).split('\n').filter((l) => l.startsWith('10.')).length, 4, 'held');
  await waitFor('removal applied after grace', async () => (await readFile(s.dest, 'utf8')).includes('empty'), 5000, 10);
  assert.ok(Date.now() - t0 >= 450, `applied after ${Date.now() - t0} ms`);
});

test('inplace mode rewrites the same inode (single-file bind mounts)', async (t) => {
  const s = await setup(t, { mode: 'inplace' });
  await writeFile(s.dest, 'old\n');
  const inode = (await stat(s.dest)).ino;
  await s.kv.set('/services/web/a', '10.0.0.1:80');
  await s.mode.start();
  assert.equal(await readFile(s.dest, 'utf8'), '\n10.0.0.1:80\n');
  assert.equal((await stat(s.dest)).ino, inode);
});
