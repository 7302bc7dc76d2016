// The registrator reaches the store only through store/client (DESIGN.md), so it works against
// any v2 store; this scan keeps it that way.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('registrator imports the store only through store/client', () => {
  const offenders: string[] = [];
  const files = sources(import.meta.dirname);
  assert.ok(files.some((f) => f.endsWith('etcd-adapter.ts')), 'the scan sees the sources');
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)) {
      const spec = m[1]!;
      if (/\/store\//.test(spec) && !/\/store\/client\//.test(spec)) offenders.push(`${file}: ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
