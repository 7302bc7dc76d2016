import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { startExampleProcess } from '../common/testing.ts';
import { readCounter } from './main.ts';

test('lock-counter example: 3 processes x 40 increments of one file under the lock lose no update', { timeout: 90_000 }, async (t) => {
  const store = await startCluster('berth', 3);
  t.after(() => store.stop());
  const dir = await mkdtemp(join(tmpdir(), 'berth-rec-counter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'counter.txt');
  const started = Date.now();
  const procs = [0, 1, 2].map((i) => startExampleProcess('lock-counter/main.ts', ['--endpoints', store.clientUrls[i]!, '--file', file, '--increments', '40']));
  t.after(() => Promise.all(procs.map((p) => p.stop())));
  const codes = await Promise.all(procs.map((p) => p.exited));
  assert.deepEqual(codes, [0, 0, 0], procs.map((p) => p.output()).join('\n'));
  for (const p of procs) assert.match(p.output(), /added 40 \(refused 0\)/);
  assert.equal(readCounter(file).count, 120);
  console.log(`lock-counter example: 120 increments by 3 processes in ${Date.now() - started} ms`);
});
