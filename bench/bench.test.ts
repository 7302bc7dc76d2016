import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireEtcd } from '../lib/testing/requirements.ts';
import type { Row } from './types.ts';

// A smoke test of `npm run bench -- --quick`: every row must carry numbers for both stores.
// Values are not asserted: timing belongs to the benchmark, not to tests.
test('bench --quick produces a number for every row on berth and etcd', { timeout: 240_000 }, async (t) => {
  if (!requireEtcd(t)) return;
  const out = await mkdtemp(join(tmpdir(), 'berth-bench-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const root = resolve(import.meta.dirname, '..');
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], { cwd: root, encoding: 'utf8', timeout: 230_000 });
  assert.equal(run.status, 0, `bench failed:\n${run.stderr.slice(-4000)}`);
  const { rows } = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { rows: Row[] };
  assert.ok(rows.length >= 15, `only ${rows.length} rows`);
  for (const row of rows) {
    for (const kind of ['berth', 'etcd'] as const) {
      const m = row.results[kind];
      assert.ok(m && Number.isFinite(m.value), `${row.suite} / ${row.name}: no number for ${kind}`);
    }
  }
  assert.match(run.stdout, /\| berth\/etcd \|/);
});
