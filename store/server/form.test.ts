import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { formPairs } from './form.ts';

test('formPairs reads a urlencoded body as URLSearchParams does, with or without escapes', () => {
  const cases = ['', 'value=1', 'value=', 'value', '=x', '&&a=1&&', 'a=1&a=2', 'a==b', 'value=h%C3%A9+there', 'x=%zz', 'ttl=5&value=é'];
  for (const body of cases) assert.deepEqual([...formPairs(body)], [...new URLSearchParams(body)], JSON.stringify(body));
  const seed = seedFromEnv();
  console.log(`formPairs property seed ${seed}`);
  const rand = new Rand(seed);
  const pieces = ['&', '=', 'a', 'value', 'ttl', '1', 'é', '日', ' ', '%', '%2B', '+', ';', '%zz'];
  for (let i = 0; i < 20_000; i++) {
    let body = '';
    for (let n = rand.int(10); n > 0; n--) body += pieces[rand.int(pieces.length)];
    assert.deepEqual([...formPairs(body)], [...new URLSearchParams(body)], `${JSON.stringify(body)} (seed ${seed})`);
  }
});
