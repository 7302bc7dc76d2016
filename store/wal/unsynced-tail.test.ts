import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnsyncedTail } from './unsynced-tail.ts';

const b = (s: string) => Buffer.from(s);

test('with nothing unsynced, a durable write is just its own data', () => {
  assert.deepEqual(new UnsyncedTail().cover(100, b('xyz')), { offset: 100, data: b('xyz') });
});

test('a durable write starts at the first unsynced byte and carries them all again', () => {
  const tail = new UnsyncedTail();
  tail.wrote(100, b('ab'));
  tail.wrote(102, b('cde'));
  assert.equal(tail.bytes, 5);
  assert.deepEqual(tail.cover(105, b('F')), { offset: 100, data: b('abcdeF') });
  assert.equal(tail.bytes, 0, 'covered bytes are durable now');
  assert.deepEqual(tail.cover(106, b('G')), { offset: 106, data: b('G') });
});

test('after a whole-file sync nothing is carried', () => {
  const tail = new UnsyncedTail();
  tail.wrote(10, b('abc'));
  tail.clear();
  assert.deepEqual(tail.cover(13, b('d')), { offset: 13, data: b('d') });
});
