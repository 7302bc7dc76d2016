import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RemovalGuard } from './removal-guard.ts';
import type { Upstream } from './services.ts';

const up = (n: number): Upstream => ({ id: `u${n}`, address: `10.0.0.${n}:80`, host: `10.0.0.${n}`, port: 80, tags: [], attrs: {} });
const list = (...ns: number[]) => ns.map(up);
const addrs = (m: ReadonlyMap<string, readonly Upstream[]>, s: string) => (m.get(s) ?? []).map((u) => u.address);

test('removing half or fewer applies at once; more than half waits for the grace period', () => {
  const g = new RemovalGuard(50, 10_000);
  g.decide(new Map([['/services/web', list(1, 2, 3, 4)]]), 0);
  const half = g.decide(new Map([['/services/web', list(1, 2)]]), 1);
  assert.deepEqual(addrs(half.upstreams, '/services/web'), ['10.0.0.1:80', '10.0.0.2:80']);
  assert.equal(half.held.length, 0);

  const emptied = g.decide(new Map(), 100);
  assert.deepEqual(emptied.held, ['/services/web']);
  assert.equal(emptied.recheckAt, 10_100);
  assert.equal(addrs(emptied.upstreams, '/services/web').length, 2);

  const still = g.decide(new Map(), 5000);
  assert.equal(addrs(still.upstreams, '/services/web').length, 2, 'still held inside the grace period');
  const after = g.decide(new Map(), 10_100);
  assert.equal(after.upstreams.has('/services/web'), false);
  assert.equal(after.held.length, 0);
});

test('a hiccup that heals inside the grace period never reaches the config', () => {
  const g = new RemovalGuard(50, 10_000);
  g.decide(new Map([['/services/web', list(1, 2, 3)]]), 0);
  assert.deepEqual(g.decide(new Map([['/services/web', list(3)]]), 10).held, ['/services/web']);
  const healed = g.decide(new Map([['/services/web', list(1, 2, 3, 4)]]), 20);
  assert.equal(healed.held.length, 0);
  assert.equal(addrs(healed.upstreams, '/services/web').length, 4);
});

test('max-removal 100 disables the guard', () => {
  const g = new RemovalGuard(100, 10_000);
  g.decide(new Map([['/s', list(1)]]), 0);
  assert.equal(g.decide(new Map(), 1).upstreams.size, 0);
});
