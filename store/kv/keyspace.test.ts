import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack, unpack } from 'msgpackr';
import { MsgpackWriter } from '../../lib/msgpack-writer.ts';
import { Rand, seedFromEnv } from '../../lib/rand.ts';
import { EtcdError } from './errors.ts';
import { Keyspace } from './keyspace.ts';
import { toNodeJSON, formatExpiration } from './node-json.ts';
import type { KvCommand, KvEvent } from './types.ts';

const T0 = Date.UTC(2026, 0, 1);
const set = (key: string, value: string, extra: Partial<Extract<KvCommand, { op: 'set' }>> = {}): KvCommand => ({ op: 'set', key, value, dir: false, ttlSeconds: null, prevValue: '', prevIndex: 0, refresh: false, nowMs: T0, ...extra });
const del = (key: string, extra: Partial<Extract<KvCommand, { op: 'delete' }>> = {}): KvCommand => ({ op: 'delete', key, dir: false, recursive: false, prevValue: '', prevIndex: 0, nowMs: T0, ...extra });
const one = (r: KvEvent | KvEvent[]) => (Array.isArray(r) ? r[0]! : r);

function code(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof EtcdError) return e.errorCode;
    throw e;
  }
  return 0;
}

test('keys are normalized as etcd does', () => {
  const ks = new Keyspace();
  ks.apply(set('//a/./b/../c/', 'v'));
  assert.equal(ks.get('/a/c', { recursive: false, sorted: false }).node.value, 'v');
  assert.equal(code(() => ks.apply(set('/', 'x'))), 107);
  assert.equal(code(() => ks.apply(set('/..', 'x'))), 107);
});

test('every mutation takes one index; errors carry the current index', () => {
  const ks = new Keyspace();
  assert.equal(one(ks.apply(set('/a', '1'))).node.modifiedIndex, 1);
  assert.equal(one(ks.apply(set('/a', '2'))).node.modifiedIndex, 2);
  try {
    ks.apply(set('/a', '3', { prevExist: false }));
    assert.fail('create over an existing key must fail');
  } catch (e) {
    assert.ok(e instanceof EtcdError);
    assert.equal(e.errorCode, 105);
    assert.equal(e.index, 2);
  }
  assert.equal(ks.index, 2, 'a failed write takes no index');
  assert.equal(one(ks.apply(set('/b', '1'))).node.modifiedIndex, 3);
});

test('CAS and CAD check value and index and report both mismatches', () => {
  const ks = new Keyspace();
  ks.apply(set('/a', 'one'));
  try {
    ks.apply(set('/a', 'two', { prevValue: 'x', prevIndex: 7 }));
    assert.fail('CAS should fail');
  } catch (e) {
    assert.ok(e instanceof EtcdError);
    assert.equal(e.errorCode, 101);
    assert.equal(e.etcdCause, '[x != one] [7 != 1]');
    assert.equal(e.index, 1);
  }
  assert.equal(one(ks.apply(set('/a', 'two', { prevValue: 'one' }))).action, 'compareAndSwap');
  assert.equal(code(() => ks.apply(del('/a', { prevValue: 'one' }))), 101);
  assert.equal(one(ks.apply(del('/a', { prevIndex: 2 }))).action, 'compareAndDelete');
});

test('TTL: expiry happens only when a sync entry carries a later clock', () => {
  const ks = new Keyspace();
  ks.apply(set('/t', 'v', { ttlSeconds: 5 }));
  ks.apply(set('/d', '', { dir: true, ttlSeconds: 3 }));
  ks.apply(set('/d/child', 'c'));
  assert.equal(ks.nextExpiryMs(), T0 + 3000);
  assert.deepEqual(ks.apply({ op: 'sync', nowMs: T0 + 2999 }), []);
  const expired = ks.apply({ op: 'sync', nowMs: T0 + 5000 }) as KvEvent[];
  assert.deepEqual(expired.map((e) => [e.action, e.node.key]), [['expire', '/d'], ['expire', '/t']]);
  assert.equal(code(() => ks.get('/d/child', { recursive: false, sorted: false })), 100);
  assert.equal(ks.hasTtlNodes(), false);
  assert.equal(ks.stats().expireCount, 2);
});

test('ttl is rounded up and expiration is RFC3339 with trimmed fractions', () => {
  const ks = new Keyspace();
  const e = one(ks.apply(set('/t', 'v', { ttlSeconds: 10, nowMs: T0 + 250 })));
  const json = toNodeJSON(e.node, T0 + 1250);
  assert.equal(json.ttl, 9);
  assert.equal(json.expiration, '2026-01-01T00:00:10.25Z');
  assert.equal(formatExpiration(T0), '2026-01-01T00:00:00Z');
});

test('watchers: one-shot, recursive, stream, history and 401 when cleared', () => {
  const ks = new Keyspace({ historySize: 5 });
  const seen: string[] = [];
  ks.watch('/w', { recursive: false, stream: false, sinceIndex: 0 }, (e) => seen.push(`once:${e.action}:${e.node.key}`));
  ks.watch('/w', { recursive: true, stream: true, sinceIndex: 0 }, (e) => seen.push(`stream:${e.action}:${e.node.key}`));
  ks.apply(set('/w/child', '1'));
  ks.apply(set('/w', '', { dir: true, prevExist: true }));
  ks.apply(set('/w/_hidden', '2'));
  assert.deepEqual(seen, ['stream:set:/w/child', 'once:update:/w', 'stream:update:/w']);
  assert.equal(ks.stats().watchers, 1);
  for (let i = 0; i < 6; i++) ks.apply(set('/x', String(i)));
  assert.equal(code(() => ks.watch('/x', { recursive: false, stream: false, sinceIndex: 1 }, () => {})), 401);
  const fromHistory: number[] = [];
  ks.watch('/x', { recursive: false, stream: false, sinceIndex: ks.index - 1 }, (e) => fromHistory.push(e.node.modifiedIndex));
  assert.deepEqual(fromHistory, [ks.index - 1]);
});

test('deleting a directory notifies watchers on keys inside it', () => {
  const ks = new Keyspace();
  ks.apply(set('/d/a/b', '1'));
  const seen: string[] = [];
  ks.watch('/d/a/b', { recursive: false, stream: false, sinceIndex: 0 }, (e) => seen.push(`${e.action}:${e.node.key}`));
  ks.apply(del('/d', { recursive: true }));
  assert.deepEqual(seen, ['delete:/d']);
});

test('refreshes take an index but never wake watchers', () => {
  const ks = new Keyspace();
  ks.apply(set('/r', 'v', { ttlSeconds: 10 }));
  const seen: KvEvent[] = [];
  ks.watch('/r', { recursive: false, stream: true, sinceIndex: 0 }, (e) => seen.push(e));
  const e = one(ks.apply(set('/r', '', { ttlSeconds: 20, refresh: true })));
  assert.equal(e.node.value, 'v');
  assert.equal(e.node.expireAtMs, T0 + 20_000);
  assert.equal(seen.length, 0);
  assert.equal(ks.index, 2);
});

test('snapshot and restore round-trip the tree, TTLs, index and history', () => {
  const ks = new Keyspace();
  ks.apply(set('/a/b', '1', { ttlSeconds: 100 }));
  ks.apply({ op: 'createInOrder', dir: '/q', value: 'job', isDir: false, ttlSeconds: null, nowMs: T0 });
  const copy = new Keyspace();
  copy.restore(JSON.parse(JSON.stringify(ks.snapshot())));
  assert.deepEqual(copy.get('/', { recursive: true, sorted: true }), ks.get('/', { recursive: true, sorted: true }));
  assert.equal(copy.index, ks.index);
  assert.equal(copy.nextExpiryMs(), T0 + 100_000);
  const hist: KvEvent[] = [];
  copy.watch('/a/b', { recursive: false, stream: false, sinceIndex: 1 }, (e) => hist.push(e));
  assert.equal(hist[0]?.action, 'set');
});

test('a snapshot keeps its moment: writes after it change neither its tree nor its history', () => {
  const ks = new Keyspace();
  for (let i = 1; i <= 5; i++) ks.apply(set(`/k${i}`, `v${i}`));
  const snap = ks.snapshot();
  const before = JSON.stringify(snap);
  for (let i = 1; i <= 1100; i++) ks.apply(set(`/k${i % 7}`, `w${i}`));
  assert.equal(JSON.stringify(snap), before);
  const copy = new Keyspace();
  copy.restore(snap);
  assert.equal(copy.index, 5);
  assert.equal(copy.get('/k5', { recursive: false, sorted: false }).node.value, 'v5');
  const hist: KvEvent[] = [];
  copy.watch('/k1', { recursive: false, stream: false, sinceIndex: 1 }, (e) => hist.push(e));
  assert.equal(hist[0]?.node.value, 'v1');
});

test('a snapshot written a slice at a time reads back as snapshot() and restores the same keyspace (seeded)', () => {
  const seed = seedFromEnv();
  console.log(`keyspace snapshot encoding seed ${seed}`);
  const rand = new Rand(seed);
  const pieces = ['a', 'b', 'dir', '_hidden', 'é', '日本', '😀', ' ', '"'];
  const name = () => Array.from({ length: rand.range(1, 3) }, () => rand.pick(pieces)).join('');
  for (let round = 0; round < 20; round++) {
    const ks = new Keyspace({ historySize: rand.pick([5, 1000]) });
    // Few keys, so that keys are written again, turned into dirs and deleted under others.
    const keys = Array.from({ length: rand.range(3, 40) }, () => Array.from({ length: rand.range(1, 3) }, name).join('/'));
    for (let i = rand.int(400); i > 0; i--) {
      const key = rand.pick(keys);
      const value = rand.chance(0.1) ? 'v'.repeat(rand.pick([0, 90, 300, 70_000])) : name();
      const cmd = rand.pick<() => KvCommand>([
        () => set(key, value),
        () => set(key, value, { ttlSeconds: rand.range(1, 1000), nowMs: T0 + rand.int(5000) }),
        () => set(key, value, { prevExist: true }),
        () => set(key, '', { refresh: true, prevExist: true, ttlSeconds: rand.range(1, 1000) }),
        () => set(key, '', { dir: true }),
        () => ({ op: 'createInOrder', dir: key, value, isDir: false, ttlSeconds: null, nowMs: T0 }),
        () => del(key, { recursive: true, dir: true }),
      ])();
      try {
        ks.apply(cmd);
      } catch (e) {
        if (!(e instanceof EtcdError)) throw e;
      }
    }
    const w = new MsgpackWriter(rand.int(1000));
    const encoder = ks.encodeSnapshot(w);
    const nodesPerStep = rand.pick([1, 2, 7, 1000]);
    while (!encoder.step(nodesPerStep));
    const written = unpack(w.bytes());
    assert.deepEqual(written, unpack(pack(ks.snapshot())), `round ${round} (SEED=${seed})`);
    const copy = new Keyspace();
    copy.restore(written);
    assert.deepEqual(copy.get('/', { recursive: true, sorted: true }), ks.get('/', { recursive: true, sorted: true }));
    assert.equal(copy.index, ks.index);
    assert.equal(copy.nextExpiryMs(), ks.nextExpiryMs());
  }
});

test('random command sequences keep the keyspace consistent with a flat model (seeded)', () => {
  const seed = seedFromEnv();
  console.log(`keyspace model test seed ${seed}`);
  const rand = new Rand(seed);
  const ks = new Keyspace();
  const model = new Map<string, string>();
  const keys = ['/m/a', '/m/b', '/m/c/d', '/m/c/e'];
  for (let i = 0; i < 2000; i++) {
    const key = rand.pick(keys);
    const op = rand.int(4);
    try {
      if (op === 0) {
        ks.apply(set(key, `v${i}`));
        model.set(key, `v${i}`);
      } else if (op === 1) {
        ks.apply(del(key));
        model.delete(key);
      } else if (op === 2) {
        const prev = model.get(key) ?? 'none';
        ks.apply(set(key, `c${i}`, { prevValue: prev }));
        model.set(key, `c${i}`);
      } else {
        ks.apply(set(key, `n${i}`, { prevExist: false }));
        model.set(key, `n${i}`);
      }
    } catch (e) {
      assert.ok(e instanceof EtcdError, String(e));
    }
    for (const k of keys) {
      let v: string | undefined;
      try {
        v = ks.get(k, { recursive: false, sorted: false }).node.value;
      } catch {
        v = undefined;
      }
      assert.equal(v, model.get(k), `seed ${seed} step ${i} key ${k}`);
    }
  }
});
