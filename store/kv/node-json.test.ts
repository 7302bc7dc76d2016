import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { eventJSON, eventText } from './node-json.ts';
import type { Action, KvEvent, KvNodeView } from './types.ts';

const PIECES = ['a', '/', 'key', 'v', ' ', '"', '\\', '\n', '\u0001', '\u001f', '\u007f', 'é', '日', '😀', '\ud800', '\udc00', '</', '\u2028'];
const ACTIONS: Action[] = ['set', 'get', 'create', 'update', 'delete', 'compareAndSwap', 'compareAndDelete', 'expire'];
const NOW = 1_780_000_000_000;

function randomText(rand: Rand): string {
  let s = '';
  for (let n = rand.int(12); n > 0; n--) s += PIECES[rand.int(PIECES.length)];
  return s;
}

function randomNode(rand: Rand, depth: number): KvNodeView {
  const dir = rand.chance(0.3);
  const node: KvNodeView = {
    key: rand.chance(0.05) ? '/' : `/${randomText(rand)}`,
    dir,
    expireAtMs: rand.chance(0.3) ? NOW + rand.range(-3000, 90_000) : null,
    modifiedIndex: rand.chance(0.1) ? 0 : rand.int(1_000_000),
    createdIndex: rand.chance(0.1) ? 0 : rand.int(1_000_000),
  };
  if (!dir && rand.chance(0.9)) node.value = randomText(rand);
  if (dir && depth < 3 && rand.chance(0.6)) node.nodes = Array.from({ length: rand.int(4) }, () => randomNode(rand, depth + 1));
  return node;
}

test('eventText writes the same JSON as JSON.stringify(eventJSON(...)) for any event', () => {
  const seed = seedFromEnv();
  console.log(`eventText property seed ${seed}`);
  const rand = new Rand(seed);
  for (let i = 0; i < 20_000; i++) {
    const ev: KvEvent = { action: ACTIONS[rand.int(ACTIONS.length)]!, node: randomNode(rand, 0), etcdIndex: rand.int(1_000_000) };
    if (rand.chance(0.5)) ev.prevNode = randomNode(rand, 0);
    const now = NOW + rand.int(2000);
    assert.equal(eventText(ev, now), JSON.stringify(eventJSON(ev, now)), `seed ${seed}, event ${i}`);
  }
});
