import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { waitFor } from '../../lib/testing/process.ts';
import { ctl, startExampleProcess, waitForOutput } from '../common/testing.ts';
import { parseFlags, render } from './main.ts';

test('feature flags: parsing and rendering', () => {
  assert.equal(render(parseFlags({})), 'checkout: classic\n');
  assert.equal(render(parseFlags({ 'new-checkout': 'ON', banner: 'sale' })), '[sale] checkout: new\n');
  assert.equal(parseFlags({ 'new-checkout': 'nope' }).newCheckout, false);
});

test('feature-flags example: the service reconfigures itself when a flag key changes', { timeout: 60_000 }, async (t) => {
  const store = await startCluster('berth', 1);
  t.after(() => store.stop());
  const url = store.clientUrls[0]!;
  const svc = startExampleProcess('feature-flags/main.ts', ['--endpoints', url, '--port', '0']);
  t.after(() => svc.stop());
  const port = (await waitForOutput(svc, /listening on http:\/\/127\.0\.0\.1:(\d+)/))[1];
  const page = async () => (await fetch(`http://127.0.0.1:${port}/`)).text();
  assert.equal(await page(), 'checkout: classic\n');
  const timings: number[] = [];
  for (const [key, value, expected] of [['new-checkout', 'on', 'checkout: new\n'], ['banner', 'sale', '[sale] checkout: new\n'], ['new-checkout', 'off', '[sale] checkout: classic\n']] as const) {
    ctl(url, 'set', `/examples/flags/${key}`, value);
    const at = Date.now();
    await waitFor(`page to show ${expected.trim()}`, async () => (await page()) === expected, 5000, 10);
    timings.push(Date.now() - at);
  }
  ctl(url, 'rm', '/examples/flags/banner');
  await waitFor('banner gone', async () => (await page()) === 'checkout: classic\n', 5000, 10);
  console.log(`feature-flags: flag change visible on the page after ${timings.join(', ')} ms (after berth ctl returned)`);
});
