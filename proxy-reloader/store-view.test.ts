import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../lib/log.ts';
import { waitFor } from '../lib/testing/process.ts';
import { EtcdError, EtcdErrorCode, type KvBackend, type KvResult, type WatchOpts } from '../store/client/kv-backend.ts';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import { upstreamsIn } from './services.ts';
import { StoreView } from './store-view.ts';

/** MemoryKvBackend whose watches can be made to fail: 401 once, or "unreachable" while `down`. */
class FlakyBackend implements KvBackend {
  cleared401 = 0;
  down = false;
  constructor(readonly inner: MemoryKvBackend) {}
  get = (k: string, o?: Parameters<KvBackend['get']>[1]) => (this.down ? Promise.reject(new Error('connect ECONNREFUSED')) : this.inner.get(k, o));
  set: KvBackend['set'] = (k, v, o) => this.inner.set(k, v, o);
  createInOrder: KvBackend['createInOrder'] = (d, v, o) => this.inner.createInOrder(d, v, o);
  delete: KvBackend['delete'] = (k, o) => this.inner.delete(k, o);
  close = () => this.inner.close();
  async *watch(key: string, opts: WatchOpts = {}): AsyncIterable<KvResult> {
    if (this.cleared401 > 0) {
      this.cleared401--;
      // Changes land while the watch is "away", then the history no longer reaches back.
      await this.inner.set('/services/web/late', '10.0.0.9:80');
      throw new EtcdError(EtcdErrorCode.EventIndexCleared, 'cleared', 0);
    }
    for await (const ev of this.inner.watch(key, opts)) {
      if (this.down) throw new Error('socket hang up');
      yield ev;
    }
  }
}

test('reads at an index, follows changes, watches _meta, re-reads on 401', async () => {
  const mem = new MemoryKvBackend();
  await mem.set('/services/web/a', '10.0.0.1:80');
  await mem.set('/services/web/_meta/a', '{"tags":["blue"]}');
  const kv = new FlakyBackend(mem);
  kv.cleared401 = 1;
  let changes = 0;
  const view = new StoreView({ kv, prefixes: ['/services/web'], logger: silentLogger, onChange: () => changes++ });
  view.start();
  await view.ready;
  await waitFor('late key after 401 re-read', () => view.keys.has('/services/web/late'), 5000, 5);
  assert.deepEqual(upstreamsIn(view.keys, '/services/web')[0]!.tags, ['blue']);
  await mem.set('/services/web/b', '10.0.0.2:80');
  await mem.set('/services/web/_meta/b', '{"tags":["green"]}');
  await waitFor('b with its tags', () => upstreamsIn(view.keys, '/services/web').find((u) => u.id === 'b')?.tags[0] === 'green', 5000, 5);
  await mem.delete('/services/web/a');
  await waitFor('a removed', () => !view.keys.has('/services/web/a'), 5000, 5);
  assert.ok(view.status().watching.includes('/services/web/_meta'));
  assert.ok(changes >= 4);
  await view.stop();
  await mem.close();
});

test('an unreachable store keeps the last known keys and says so', async () => {
  const mem = new MemoryKvBackend();
  await mem.set('/services/web/a', '10.0.0.1:80');
  const kv = new FlakyBackend(mem);
  const view = new StoreView({ kv, prefixes: ['/services/web'], logger: silentLogger, onChange: () => {}, retryMs: 20 });
  view.start();
  await view.ready;
  kv.down = true;
  await mem.set('/services/web/b', '10.0.0.2:80'); // wakes the watch, which now fails
  await waitFor('disconnected', () => !view.status().connected, 5000, 5);
  assert.equal(view.keys.get('/services/web/a'), '10.0.0.1:80');
  assert.match(view.status().lastError ?? '', /hang up|ECONNREFUSED/);
  kv.down = false;
  await waitFor('reconnected with b', () => view.status().connected && view.keys.has('/services/web/b'), 5000, 5);
  await view.stop();
  await mem.close();
});
