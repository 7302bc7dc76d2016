import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requireDocker } from '../lib/testing/requirements.ts';
import { ensureBerthImage } from './image/build-image.ts';
import { OWNER_PID_LABEL, removeOrphans } from './orphans.ts';
import { TEST_CLUSTER_OPTIONS, TEST_PREFIX } from './test-options.ts';

function docker(...args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

test('removeOrphans removes prefixed containers of a dead owner and keeps those of a live one', { timeout: 60_000 }, async (t) => {
  if (!requireDocker(t)) return;
  const image = ensureBerthImage({ repo: TEST_CLUSTER_OPTIONS.imageRepo });
  const prefix = `${TEST_PREFIX}orphan-test-`;
  const gone = spawnSync('true');
  const deadPid = gone.pid!;
  const dead = `${prefix}dead`;
  const live = `${prefix}live`;
  t.after(() => spawnSync('docker', ['rm', '-f', dead, live]));
  docker('create', '--name', dead, '--label', `${OWNER_PID_LABEL}=${deadPid}`, image);
  docker('create', '--name', live, '--label', `${OWNER_PID_LABEL}=${process.pid}`, image);
  assert.equal(await removeOrphans(prefix), 1);
  const left = docker('ps', '-a', '--filter', `name=${prefix}`, '--format', '{{.Names}}').split('\n').filter(Boolean);
  assert.deepEqual(left, [live]);
});
