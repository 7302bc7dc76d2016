import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { canonicalPath, cleanBySegments, readTarget } from './targets.ts';

test('canonicalPath cleans paths as Go does, and its shortcut for clean ones agrees with cleaning segment by segment', () => {
  const cases: [string, string][] = [
    ['', '/'], ['/', '/'], ['/v2/keys/a', '/v2/keys/a'], ['/v2/keys/a/', '/v2/keys/a/'], ['v2/keys', '/v2/keys'],
    ['/v2//keys', '/v2/keys'], ['/v2/./keys', '/v2/keys'], ['/v2/x/../keys', '/v2/keys'], ['/v2/keys/..', '/v2'],
    ['/v2/keys/.', '/v2/keys'], ['/.hidden/..x/.../a.', '/.hidden/..x/.../a.'], ['/../..', '/'],
  ];
  for (const [p, want] of cases) assert.equal(canonicalPath(p), want, JSON.stringify(p));
  const seed = seedFromEnv();
  console.log(`canonicalPath property seed ${seed}`);
  const rand = new Rand(seed);
  const pieces = ['/', 'a', '.', '..', 'b.', '.c', '//', 'v2', 'keys', '...'];
  for (let i = 0; i < 20_000; i++) {
    let p = '';
    for (let n = rand.int(8); n > 0; n--) p += pieces[rand.int(pieces.length)];
    assert.equal(canonicalPath(p), cleanBySegments(p), `${JSON.stringify(p)} (seed ${seed})`);
  }
});

test('readTarget decodes the path only when it holds an escape, and refuses bad escapes and NULs', () => {
  assert.deepEqual([readTarget('/v2/keys/a%20b?x=1').path, readTarget('/v2/keys/a%20b?x=1').query.get('x')], ['/v2/keys/a b', '1']);
  assert.equal(readTarget('/v2/keys/plain').path, '/v2/keys/plain');
  assert.equal(readTarget('/v2/keys/%zz').path, null);
  assert.equal(readTarget('/v2/keys/a%00').canonical, null);
  assert.equal(readTarget('/v2//keys/a').canonical, '/v2/keys/a');
});
