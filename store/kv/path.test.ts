import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { cleanKey } from './path.ts';

/** Go's path.Clean("/" + key), segment by segment: the oracle cleanKey's shortcut must agree with. */
function goClean(key: string): string {
  const parts: string[] = [];
  for (const seg of ('/' + key).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

test('cleanKey resolves what Go path.Clean resolves and leaves a clean key as it is', () => {
  const cases: [string, string][] = [
    ['/', '/'], ['', '/'], ['/a', '/a'], ['a/b', '/a/b'], ['/a/', '/a'], ['//a//b', '/a/b'],
    ['/a/./b', '/a/b'], ['/a/../b', '/b'], ['/../a', '/a'], ['/a/..', '/'], ['/a/.', '/a'],
    ['/.a/..b/...', '/.a/..b/...'], ['/a.b/c..', '/a.b/c..'], ['/_hidden/x', '/_hidden/x'],
  ];
  for (const [key, want] of cases) assert.equal(cleanKey(key), want, `cleanKey(${JSON.stringify(key)})`);
});

const seed = seedFromEnv();
test(`cleanKey agrees with the oracle on random keys of slashes, dots and letters (seed ${seed})`, () => {
  console.log(`seed ${seed}; rerun: SEED=${seed} npm test -- store/kv/path.test.ts`);
  const rand = new Rand(seed);
  const alphabet = ['/', '/', '.', '.', 'a', '_'];
  for (let i = 0; i < 20_000; i++) {
    let key = '';
    for (let n = rand.int(10); n > 0; n--) key += rand.pick(alphabet);
    assert.equal(cleanKey(key), goClean(key), `cleanKey(${JSON.stringify(key)})`);
  }
});
