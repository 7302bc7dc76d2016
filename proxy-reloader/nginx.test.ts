/**
 * Template mode against a real nginx: backends registered in a real berth store, the
 * proxy-reloader command renders templates/nginx-upstreams.conf.hbs, checks with nginx -t,
 * installs, reloads nginx; requests through nginx reach every backend. A broken template
 * (SIGHUP re-read) is not installed and nginx keeps serving. 50 registrations in a burst give
 * one render and one reload.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../lib/testing/ports.ts';
import { startProcess, waitFor } from '../lib/testing/process.ts';
import { requireNginx } from '../lib/testing/requirements.ts';
import { startCluster } from '../lib/testing/store-cluster.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';
import { runCommand } from './command.ts';
import { startBackend, type Backend } from './testing/backends.ts';
import { httpExchange } from './testing/http-get.ts';
import { startNginx } from './testing/nginx.ts';

const berthBin = resolve(import.meta.dirname, '../bin/berth');
const logLines = (out: string, msg: string) => out.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;

test('template mode drives a real nginx', { timeout: 120_000 }, async (t) => {
  if (!requireNginx(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-nginx-'));
  const cluster = await startCluster('berth', 1);
  const kv = new HttpKvBackend({ endpoints: cluster.clientUrls });
  const backends: Backend[] = [];
  t.after(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await kv.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  for (const name of ['b1', 'b2', 'b3']) {
    const b = await startBackend(name);
    backends.push(b);
    await kv.set(`/services/web/host1:${name}:80`, b.address);
  }
  const dest = join(dir, 'berth-upstreams.conf');
  await writeFile(dest, '# empty until the first render\n');
  const [port, probePort] = [await freePort(), await freePort()];
  const nginx = await startNginx(dir, dest, { probePort });
  t.after(() => nginx.process.stop('SIGQUIT'));

  const template = join(dir, 'upstreams.hbs');
  await copyFile(resolve(import.meta.dirname, '../templates/nginx-upstreams.conf.hbs'), template);
  const reloads = join(dir, 'reloads.log');
  const config = join(dir, 'reloader.yaml');
  await writeFile(
    config,
    `store: [${cluster.clientUrls.join(', ')}]
wait: 1s:10s
templates:
  - source: ${template}
    dest: ${dest}
    check: ${nginx.testCommand}
    reload: ${nginx.reloadCommand} && echo r >> ${reloads}
    vars: { listen: "127.0.0.1:${port}" }
`,
  );
  const reloader = startProcess(process.execPath, [berthBin, 'proxy-reloader', '--config', config, '--log-level', 'info']);
  t.after(() => reloader.stop());
  const reloadCount = async () => (await readFile(reloads, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

  // Rendered, checked, installed, reloaded; nginx reaches every backend.
  await waitFor('first reload', async () => (await reloadCount()) === 1, 20_000);
  const rendered = await readFile(dest, 'utf8');
  for (const b of backends) assert.ok(rendered.includes(`server ${b.address}`), rendered);
  assert.equal((await runCommand(nginx.testCommand, 10_000)).code, 0, 'nginx -t accepts the installed config');
  const seen = new Set<string>();
  await waitFor('every backend through nginx', async () => {
    const r = await httpExchange(port, '/', { host: 'web' });
    if (r.status === 200) seen.add(r.body);
    return seen.size === 3;
  }, 10_000, 1);

  // A template that renders an invalid config: not installed, no reload, nginx keeps serving.
  await appendFile(template, '\nthis_is_not_a_directive on;\n');
  reloader.child.kill('SIGHUP');
  await waitFor('check failure logged', () => logLines(reloader.output(), 'check failed, keeping the previous config') === 1, 15_000);
  assert.equal(await readFile(dest, 'utf8'), rendered, 'the previous config is back in place');
  assert.equal(await reloadCount(), 1, reloader.output().slice(-3000));
  assert.equal((await httpExchange(port, '/', { host: 'web' })).status, 200, 'nginx still serves');
  assert.match(reloader.output(), /this_is_not_a_directive/, "the checker's output is logged");

  // Back to the good template; then 50 registrations in a burst: one render, one reload.
  // (Addresses on loopback port 1, where nothing listens: refused at once, never someone else's server.)
  await copyFile(resolve(import.meta.dirname, '../templates/nginx-upstreams.conf.hbs'), template);
  reloader.child.kill('SIGHUP');
  await waitFor('config re-read twice', () => logLines(reloader.output(), 'config re-read') === 2, 15_000);
  const passesBefore = logLines(reloader.output(), 'render pass');
  const reloadsBefore = await reloadCount();
  await Promise.all(Array.from({ length: 50 }, (_, i) => kv.set(`/services/web/host2:burst${i}:80`, `127.0.1.${i + 1}:1`)));
  await waitFor('burst installed', async () => (await readFile(dest, 'utf8')).split('\n').filter((l) => /server 127\.0\.[01]\./.test(l)).length === 53, 20_000);
  await new Promise((r) => setTimeout(r, 1000)); // a second pass, if any, would show up now
  const tail = () => reloader.output().slice(-3000);
  assert.equal(logLines(reloader.output(), 'render pass') - passesBefore, 1, `one render for the burst:\n${tail()}`);
  assert.equal((await reloadCount()) - reloadsBefore, 1, `one reload for the burst:\n${tail()}`);
  const after = await httpExchange(port, '/', { host: 'web' });
  assert.equal(after.status, 200, `through nginx after the burst: ${after.status} ${after.body}`);
});
