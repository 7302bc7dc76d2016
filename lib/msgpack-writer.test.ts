import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unpack } from 'msgpackr';
import { MsgpackWriter } from './msgpack-writer.ts';
import { Rand, seedFromEnv } from './rand.ts';

const PIECES = ['a', 'key', '/', ' ', '"', '\n', '\u0000', 'é', '日本', '😀', '\u2028'];
/** Lengths at and around every header width, counted in UTF-16 units and in bytes. */
const LENGTHS = [0, 1, 31, 32, 84, 85, 86, 255, 256, 21_845, 21_846, 65_535, 65_536, 70_000];

function randomString(rand: Rand): string {
  // Long ones now and then: most values are small, so that many fit in a test.
  const target = rand.chance(0.2) ? rand.pick(LENGTHS) : rand.pick(LENGTHS.slice(0, 7));
  let s = '';
  while (s.length < target) s += rand.pick(PIECES);
  return s;
}

function randomNumber(rand: Rand): number {
  return rand.pick([
    () => rand.int(0x80),
    () => rand.range(0x80, 0xff),
    () => rand.range(0x100, 0xffff),
    () => rand.range(0x10000, 0xffffffff),
    () => rand.range(2 ** 32, 2 ** 53 - 1),
    () => 1_780_000_000_000 + rand.int(1e9),
    () => -rand.int(1e6) - 1,
    () => rand.float() * 1e6,
  ])();
}

type Value = null | number | string | Value[] | { [k: string]: Value };

function write(w: MsgpackWriter, v: Value): void {
  if (v === null) w.nil();
  else if (typeof v === 'number') w.number(v);
  else if (typeof v === 'string') w.string(v);
  else if (Array.isArray(v)) {
    w.arrayHeader(v.length);
    for (const x of v) write(w, x);
  } else {
    const keys = Object.keys(v);
    w.mapHeader(keys.length);
    for (const k of keys) {
      w.name(k);
      write(w, v[k]!);
    }
  }
}

function randomValue(rand: Rand, depth: number): Value {
  const kind = depth > 2 ? rand.int(3) : rand.int(5);
  if (kind === 0) return null;
  if (kind === 1) return randomNumber(rand);
  if (kind === 2) return randomString(rand);
  const size = rand.pick([0, 1, 15, 16, 17, rand.int(8)]);
  if (kind === 3) return Array.from({ length: size }, () => randomValue(rand, depth + 1));
  return Object.fromEntries(Array.from({ length: size }, (_, i) => [`k${i}`, randomValue(rand, depth + 1)]));
}

test('what MsgpackWriter writes, msgpackr reads back as the same values (seeded)', () => {
  const seed = seedFromEnv();
  console.log(`msgpack writer seed ${seed}`);
  const rand = new Rand(seed);
  for (let i = 0; i < 500; i++) {
    const value = randomValue(rand, 0);
    // A small first buffer, so most values make it grow.
    const w = new MsgpackWriter(rand.int(200));
    write(w, value);
    assert.deepEqual(unpack(w.bytes()), value, `value ${i} (SEED=${seed})`);
  }
});

test('map and array headers of 65,536 entries and more take the 32-bit form', () => {
  const w = new MsgpackWriter();
  w.arrayHeader(70_000);
  for (let i = 0; i < 70_000; i++) w.number(i & 0xff);
  const back = unpack(w.bytes()) as number[];
  assert.equal(back.length, 70_000);
  assert.equal(back[69_999], 69_999 & 0xff);
});

test('bytes packed elsewhere go in as they are', () => {
  const w = new MsgpackWriter(8);
  w.mapHeader(2);
  w.name('a');
  w.raw(Uint8Array.of(0x93, 0x01, 0x02, 0x03));
  w.name('b');
  w.string('x');
  assert.deepEqual(unpack(w.bytes()), { a: [1, 2, 3], b: 'x' });
});

test('a binary header of every width, followed by its bytes, reads back as those bytes', () => {
  for (const size of [0, 1, 255, 256, 65_535, 65_536, 70_000]) {
    const data = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
    const w = new MsgpackWriter(16);
    w.arrayHeader(2);
    w.binHeader(size);
    w.raw(data);
    w.nil();
    const [back, after] = unpack(w.bytes()) as [Uint8Array, null];
    assert.deepEqual(new Uint8Array(back), data, `${size} bytes`);
    assert.equal(after, null);
  }
});

test('after reset, only what is written next is there, even when earlier writes took several chunks', () => {
  const w = new MsgpackWriter(8);
  w.arrayHeader(3);
  for (let i = 0; i < 3; i++) w.string('longer than one chunk');
  w.reset();
  w.mapHeader(1);
  w.name('t');
  w.number(300);
  assert.deepEqual(unpack(w.bytes()), { t: 300 });
  assert.equal(w.length, w.bytes().length);
});
