import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdError, EtcdErrorCode } from '../../kv/errors.ts';
import { MemoryKvBackend } from '../memory-backend.ts';
import type { KvBackend, KvResult, WatchOpts } from '../kv-backend.ts';
import { Config, type ConfigChange, type ConfigTree } from './config.ts';

interface Settings {
  host: string;
  port: number;
  flags: Record<string, boolean>;
}

function parseSettings(t: ConfigTree): Settings {
  const db = t.db as ConfigTree | undefined;
  const port = Number(db?.port ?? 5432);
  if (!Number.isInteger(port) || port <= 0) throw new RangeError(`db/port must be a port number, got ${String(db?.port)}`);
  const flags = Object.fromEntries(Object.entries((t.flags as ConfigTree | undefined) ?? {}).map(([k, v]) => [k, v === 'on']));
  return { host: String(db?.host ?? 'localhost'), port, flags };
}

test('Config: loads a directory, parses it, and emits typed changes', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  await kv.set('/app/db/host', 'db1');
  await kv.set('/app/flags/beta', 'off');
  await kv.set('/app/_hidden', 'x');
  const cfg = await Config.load(kv, '/app', { parse: parseSettings });
  t.after(() => cfg.close());
  assert.deepEqual(cfg.current, { host: 'db1', port: 5432, flags: { beta: false } });
  assert.deepEqual(cfg.raw, { db: { host: 'db1' }, flags: { beta: 'off' } });
  const changes: ConfigChange<Settings>[] = [];
  const invalid: Error[] = [];
  cfg.onChange((c) => changes.push(c));
  cfg.onInvalid((e) => invalid.push(e));
  await kv.set('/app/flags/beta', 'on');
  await kv.set('/app/db/port', 'nope');
  await kv.set('/app/db/port', '6432');
  const last = await kv.delete('/app/flags', { recursive: true });
  await cfg.waitForIndex(last.node!.modifiedIndex);
  assert.equal(invalid.length, 1);
  assert.match(invalid[0]!.message, /db\/port/);
  assert.deepEqual(changes.map((c) => [c.action, c.key, c.value, c.previous]), [
    ['set', 'flags/beta', 'on', 'off'],
    ['set', 'db/port', '6432', 'nope'],
    ['delete', 'flags/beta', undefined, 'on'],
  ]);
  assert.equal(changes[0]!.config.flags.beta, true);
  assert.equal(changes[1]!.config.port, 6432);
  assert.deepEqual(cfg.current, { host: 'db1', port: 6432, flags: {} });
});

test('Config: when the history no longer reaches back, reloads and emits the difference', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  await kv.set('/r/a', '1');
  await kv.set('/r/b', '2');
  // A watch that reports the history cleared once, as a store does after a long disconnection.
  let cleared = false;
  const forgetful = Object.create(kv) as KvBackend;
  forgetful.get = kv.get.bind(kv);
  forgetful.watch = (key: string, opts?: WatchOpts): AsyncIterable<KvResult> => {
    if (!cleared) {
      cleared = true;
      return (async function* () {
        await kv.set('/r/a', '10');
        await kv.delete('/r/b');
        await kv.set('/r/c', '3');
        yield* [];
        throw new EtcdError(EtcdErrorCode.EventIndexCleared, 'cleared', 0);
      })();
    }
    return kv.watch(key, opts);
  };
  const cfg = await Config.load(forgetful, '/r', { retryMs: 10 });
  t.after(() => cfg.close());
  const changes: string[] = [];
  cfg.onChange((c) => changes.push(`${c.action} ${c.key} ${c.value ?? ''}`));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(changes.sort(), ['delete b ', 'set a 10', 'set c 3']);
  assert.deepEqual(cfg.current, { a: '10', c: '3' });
  const w = await kv.set('/r/d', '4');
  await cfg.waitForIndex(w.node!.modifiedIndex);
  assert.deepEqual(cfg.current, { a: '10', c: '3', d: '4' });
});
