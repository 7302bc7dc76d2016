import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from './clock.ts';
import type { Upstream } from './services.ts';
import { UpstreamPool, type Strategy } from './upstream-pool.ts';

const up = (n: number): Upstream => ({ id: `u${n}`, address: `127.0.0.1:${9000 + n}`, host: '127.0.0.1', port: 9000 + n, tags: [], attrs: {} });
const pool = (strategy: Strategy, clock = new FakeClock()) => new UpstreamPool({ strategy, maxFails: 2, ejectMs: 1000, clock });

test('round-robin spreads requests evenly', () => {
  const p = pool('round-robin');
  p.update([up(1), up(2), up(3)]);
  const counts = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const m = p.pick()!;
    counts.set(m.address, (counts.get(m.address) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()], [100, 100, 100]);
});

test('least-conn sends to the upstream with the fewest requests in flight', () => {
  const p = pool('least-conn');
  p.update([up(1), up(2)]);
  const a = p.pick()!;
  p.begin(a);
  p.begin(a);
  for (let i = 0; i < 5; i++) assert.notEqual(p.pick()!.address, a.address);
});

test('two failures eject an upstream until ejectMs has passed; all ejected still tries one', () => {
  const clock = new FakeClock();
  const p = pool('round-robin', clock);
  p.update([up(1), up(2)]);
  const bad = p.list()[0]!;
  p.fail(bad);
  p.fail(bad);
  for (let i = 0; i < 10; i++) assert.notEqual(p.pick()!.address, bad.address);
  clock.advance(1000);
  const seen = new Set(Array.from({ length: 4 }, () => p.pick()!.address));
  assert.equal(seen.size, 2);
  const other = p.list()[1]!;
  p.fail(bad);
  p.fail(bad);
  p.fail(other);
  p.fail(other);
  assert.ok(p.pick(), 'with everything ejected, one is still tried');
});

test('a removed upstream drains: no new picks, forgotten when its last request ends', () => {
  const p = pool('round-robin');
  p.update([up(1), up(2)]);
  const m = p.list().find((x) => x.address.endsWith('9001'))!;
  p.begin(m);
  assert.deepEqual(p.update([up(2)]).removed, [m.address]);
  assert.equal(m.draining, true);
  for (let i = 0; i < 5; i++) assert.equal(p.pick()!.address, up(2).address);
  assert.equal(p.list().length, 2);
  p.end(m);
  assert.equal(p.list().length, 1);
});

test('unhealthy (active check) upstreams are skipped; none healthy gives null', () => {
  const p = pool('round-robin');
  p.update([up(1)]);
  p.setHealthy(up(1).address, false);
  assert.equal(p.pick(), null);
  assert.equal(p.healthyCount(), 0);
});

test('slow start ramps a new upstream from no share to a full share', async () => {
  const { Rand } = await import('../lib/rand.ts');
  const rand = new Rand(7);
  const clock = new FakeClock();
  const p = new UpstreamPool({ strategy: 'round-robin', maxFails: 2, ejectMs: 1000, clock, slowStartMs: 10_000, random: () => rand.float() });
  p.update([up(1)]);
  clock.advance(20_000);
  p.update([up(1), up(2)]);
  const shareOfNew = () => {
    let n = 0;
    for (let i = 0; i < 2000; i++) if (p.pick()!.address === up(2).address) n++;
    return n / 2000;
  };
  assert.ok(shareOfNew() < 0.02, 'just added: almost nothing');
  clock.advance(5000);
  const half = shareOfNew();
  assert.ok(half > 0.2 && half < 0.4, `half way: ${half}`);
  clock.advance(5000);
  assert.equal(shareOfNew(), 0.5, 'ramp done: an equal share');
});
