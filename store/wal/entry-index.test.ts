import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack } from 'msgpackr';
import { entryIndexOf } from './entry-index.ts';

test('entryIndexOf reads the index of an entry record as msgpack wrote it, across integer widths', () => {
  const values = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
  for (const term of values) {
    for (const index of values) {
      const payload = pack({ t: term, i: index, y: 0, d: Buffer.from('x') });
      assert.equal(entryIndexOf(payload), index, `term ${term}, index ${index}`);
    }
  }
});

test('entryIndexOf answers null for any other layout, so the caller decodes in full', () => {
  assert.equal(entryIndexOf(pack({ i: 5, t: 1, y: 0, d: Buffer.from('x') })), null);
  assert.equal(entryIndexOf(pack({ t: 1, v: 1, c: 5 })), null);
  assert.equal(entryIndexOf(pack({ t: -1, i: 5, y: 0, d: Buffer.from('x') })), null);
  assert.equal(entryIndexOf(pack({ t: 1.5, i: 5, y: 0, d: Buffer.from('x') })), null);
  const cut = pack({ t: 1, i: 70_000, y: 0, d: Buffer.from('x') });
  assert.equal(entryIndexOf(cut.subarray(0, 6)), null);
  assert.equal(entryIndexOf(new Uint8Array(0)), null);
});

test('entryIndexOf also reads a fixmap header', () => {
  const map16 = pack({ t: 3, i: 300, y: 0, d: Buffer.from('x') });
  assert.deepEqual([...map16.subarray(0, 3)], [0xde, 0, 4]);
  const fixmap = Buffer.concat([Buffer.from([0x84]), map16.subarray(3)]);
  assert.equal(entryIndexOf(fixmap), 300);
});
