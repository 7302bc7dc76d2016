/** templates/haproxy.cfg.hbs renders a config that `haproxy -c` accepts (checked before install). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../lib/log.ts';
import { requireHaproxy } from '../lib/testing/requirements.ts';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import { runCommand } from './command.ts';
import type { GroupOutcome } from './template-group.ts';
import { TemplateMode } from './template-mode.ts';

test('haproxy -c accepts the rendered haproxy.cfg', async (t) => {
  if (!requireHaproxy(t)) return;
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-haproxy-'));
  const kv = new MemoryKvBackend();
  await kv.set('/services/web/host1:web1:80', '10.0.0.2:8080');
  await kv.set('/services/web/host1:web2:80', '10.0.0.3:8080');
  await kv.set('/services/api/v1/host2:api:9000', '10.0.0.4:9000');
  const dest = join(dir, 'haproxy.cfg');
  const outcomes: GroupOutcome[] = [];
  const mode = new TemplateMode({
    kv,
    prefixes: ['/services'],
    resources: [{ source: resolve(import.meta.dirname, '../templates/haproxy.cfg.hbs'), dest, check: '/usr/sbin/haproxy -c -q -f {{file}}', mode: 'rename', perms: 0o644, commandTimeoutMs: 10_000, vars: { bind: '127.0.0.1:18080', domain: 'example.test' } }],
    wait: { minMs: 10, maxMs: 100 },
    maxRemovalPct: 50,
    removalGraceMs: 1000,
    dryRun: false,
    logger: silentLogger,
    onPass: (o) => outcomes.push(...o.values()),
  });
  t.after(async () => {
    await mode.stop();
    await kv.close();
    await rm(dir, { recursive: true, force: true });
  });
  await mode.start();
  assert.equal(outcomes[0]?.kind, 'installed', JSON.stringify(outcomes));
  const cfg = await readFile(dest, 'utf8');
  assert.match(cfg, /backend be_web\n\s+balance roundrobin\n\s+server s0_host1_web1_80 10\.0\.0\.2:8080 check/);
  assert.match(cfg, /use_backend be_api_v1 if \{ hdr\(host\) -i api-v1\.example\.test \}/);
  const check = await runCommand(`/usr/sbin/haproxy -c -f ${dest}`, 10_000);
  assert.equal(check.code, 0, check.output);
});
