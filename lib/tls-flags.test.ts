import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './errors.ts';
import { readClientTls } from './tls-flags.ts';

test('readClientTls reads the PEM files and names the flag that is wrong', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-sec-tlsflags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----${f}-----`);
  assert.equal(readClientTls({}), undefined);
  const all = readClientTls({ cacert: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') });
  assert.equal(all?.ca?.toString(), '-----ca.pem-----');
  assert.equal(all?.key?.toString(), '-----key.pem-----');
  assert.equal(readClientTls({ cacert: join(dir, 'ca.pem') })?.cert, undefined, 'a CA alone is enough to verify servers');
  assert.throws(() => readClientTls({ cert: join(dir, 'cert.pem') }), (e: unknown) => e instanceof ConfigError && e.flag === '--key');
  assert.throws(() => readClientTls({ cacert: join(dir, 'missing.pem') }), /--cacert: cannot read .*missing\.pem: ENOENT/);
});
