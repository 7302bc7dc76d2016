import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hasBinary, requireComponent } from '../../lib/testing/requirements.ts';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { startProcess, waitFor } from '../../lib/testing/process.ts';
import { HttpKvBackend } from '../../store/client/http-backend.ts';

const install = resolve(import.meta.dirname, 'install.sh');

/** `systemd-analyze verify` on unit instances: clean means exit 0 and not one warning. */
function verify(dir: string, units: string[]): { ok: boolean; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], { encoding: 'utf8', timeout: 60_000 });
  const output = (r.stdout + r.stderr).trim();
  return { ok: r.status === 0 && output === '', output };
}

/** The value of `Directive=` in a unit, with systemd's %i and %H specifiers and $$ escapes expanded. */
function directive(unit: string, name: string, instance: string): string {
  const line = unit.split('\n').find((l) => l.startsWith(`${name}=`));
  assert.ok(line, `${name}= missing`);
  return line.slice(name.length + 1).replaceAll('%i', instance).replaceAll('%H', hostname()).replaceAll('$$', '$');
}

test('sidekick units: systemd-analyze verify passes, and a broken dependency is caught', { timeout: 90_000 }, async (t) => {
  if (!requireComponent(t, 'systemd-analyze', hasBinary('systemd-analyze'), 'apt-get install -y systemd')) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-rec-units-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = spawnSync(install, [dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const good = verify(dir, ['web@8080.service', 'web-announce@8080.service']);
  assert.ok(good.ok, good.output);
  const sidekick = await readFile(join(dir, 'web-announce@.service'), 'utf8');
  assert.match(sidekick, /^BindsTo=web@%i\.service$/m);
  assert.match(sidekick, /^After=web@%i\.service$/m);
  // The same check must fail for a sidekick bound to a unit name that cannot exist.
  await writeFile(join(dir, 'broken-announce@.service'), sidekick.replace('BindsTo=web@%i.service', 'BindsTo=web@%i.servic'));
  assert.equal(verify(dir, ['broken-announce@8080.service']).ok, false);
});

test('sidekick units: the sidekick announces its service with a TTL and its ExecStop removes it', { timeout: 60_000 }, async (t) => {
  const store = await startCluster('berth', 1);
  t.after(() => store.stop());
  const dir = await mkdtemp(join(tmpdir(), 'berth-rec-units-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(spawnSync(install, [dir]).status, 0);
  const unit = await readFile(join(dir, 'web-announce@.service'), 'utf8');
  const env = { ...process.env, BERTH_ENDPOINTS: store.clientUrls[0]!, ANNOUNCE_TTL: '3' };
  // Run the unit's own commands as systemd would (ExecStart is already a /bin/sh -c line).
  const start = directive(unit, 'ExecStart', '8080').match(/^\/bin\/sh -c '(.*)'$/)![1]!;
  const sidekick = startProcess('/bin/sh', ['-c', start], { env });
  t.after(() => sidekick.stop('SIGKILL'));
  const kv = new HttpKvBackend({ endpoints: store.clientUrls });
  t.after(() => kv.close());
  const key = `/services/web/${hostname()}:8080`;
  await waitFor('the announcement', async () => (await kv.get(key).catch(() => null))?.node?.value === '127.0.0.1:8080', 20_000);
  const ttl = (await kv.get(key)).node!.ttl!;
  assert.ok(ttl > 0 && ttl <= 3, `ttl ${ttl}`);
  // Still there after more than one TTL: the loop refreshes it.
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal((await kv.get(key)).node?.value, '127.0.0.1:8080');
  await sidekick.stop('SIGTERM');
  const stop = directive(unit, 'ExecStop', '8080').replace('${BERTH_ENDPOINTS}', store.clientUrls[0]!).split(' ');
  const r = spawnSync(stop[0]!, stop.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  await assert.rejects(kv.get(key), /Key not found|100/);
});
