import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requireDocker } from '../../lib/testing/requirements.ts';
import { BERTH_VERSION } from '../../lib/version.ts';
import { TEST_PREFIX } from '../test-options.ts';
import { ensureBerthImage } from './build-image.ts';

function docker(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

test('the image builds from the host\'s node and the package without a registry, runs berth, and is reused while the sources are unchanged', { timeout: 120_000 }, async (t) => {
  if (!requireDocker(t)) return;
  const repo = `${TEST_PREFIX}image-test`;
  t.after(() => docker('rmi', '-f', `${repo}:${BERTH_VERSION}`));
  const lines: string[] = [];
  const started = performance.now();
  const tag = ensureBerthImage({ repo, force: true, log: (l) => lines.push(l) });
  const buildMs = Math.round(performance.now() - started);
  assert.equal(tag, `${repo}:${BERTH_VERSION}`, 'tagged by the package version');
  console.log(`  built ${tag} in ${buildMs} ms`);

  const version = docker('run', '--rm', '--name', `${TEST_PREFIX}image-version`, tag, '--version');
  assert.equal(version.out.trim(), `berth ${BERTH_VERSION}`);
  // Production dependencies only, and no tests.
  const listing = docker('run', '--rm', '--name', `${TEST_PREFIX}image-ls`, '--entrypoint', '/bin/sh', tag, '-c', 'ls /app/node_modules; ls /app/store/kv');
  assert.equal(listing.code, 0, listing.out);
  assert.match(listing.out, /\bpino\b/);
  assert.doesNotMatch(listing.out, /\btypescript\b|\btestcontainers\b/);
  assert.doesNotMatch(listing.out, /\.test\.ts/);

  const again = performance.now();
  ensureBerthImage({ repo, log: (l) => lines.push(l) });
  const reuseMs = Math.round(performance.now() - again);
  assert.match(lines.at(-1)!, /is up to date/);
  console.log(`  an unchanged tree reuses the image (${reuseMs} ms to decide)`);
});
