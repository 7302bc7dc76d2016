import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import { Bridge, type PortProbe } from './bridge.ts';
import { EtcdAdapter } from './etcd-adapter.ts';
import { container, serviceOptions } from './test-fixtures.ts';

/** A probe the test opens port by port ("ip:port"); an aborted wait answers false. */
function gatedProbe() {
  const opened = new Set<string>();
  const waiting = new Map<string, (ok: boolean) => void>();
  const probe: PortProbe = (ip, port, { signal }) =>
    new Promise((resolve) => {
      const key = `${ip}:${port}`;
      if (opened.has(key)) return resolve(true);
      waiting.set(key, resolve);
      signal.addEventListener('abort', () => resolve(false), { once: true });
    });
  return {
    probe,
    open(key: string) {
      opened.add(key);
      waiting.get(key)?.(true);
    },
  };
}

function setup(opts: { waitForPort?: boolean; probe?: PortProbe; kv?: MemoryKvBackend; hostId?: string } = {}) {
  const kv = opts.kv ?? new MemoryKvBackend();
  const adapter = new EtcdAdapter(kv, '/services', 30);
  const bridge = new Bridge(adapter, { ...serviceOptions({ hostId: opts.hostId ?? 'h1' }), waitForPort: opts.waitForPort ?? false, waitForPortTimeoutMs: 60_000, probe: opts.probe });
  const keys = async () => (await adapter.services()).map((s) => `${s.name}/${s.id}=${s.value}`).sort();
  return { kv, adapter, bridge, keys };
}

test('add registers, remove deregisters', async () => {
  const { bridge, keys } = setup();
  bridge.add(container());
  await bridge.idle();
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
  bridge.remove('c0ffee', 'kill');
  await bridge.idle();
  assert.deepEqual(await keys(), []);
});

test('--wait-for-port: registered only once the container port accepts connections', async () => {
  const gate = gatedProbe();
  const { bridge, keys } = setup({ waitForPort: true, probe: gate.probe });
  bridge.add(container());
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await keys(), [], 'port closed: nothing yet');
  gate.open('172.17.0.5:80');
  await bridge.idle();
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
});

test('a container removed while waiting for its port is never registered', async () => {
  const gate = gatedProbe();
  const { bridge, keys } = setup({ waitForPort: true, probe: gate.probe });
  bridge.add(container());
  bridge.remove('c0ffee', 'kill');
  gate.open('172.17.0.5:80');
  await bridge.idle();
  assert.deepEqual(await keys(), []);
  assert.deepEqual(bridge.registeredServices(), []);
});

test('a restarted registrator resyncs without writing entries that are already right', async () => {
  const kv = new MemoryKvBackend();
  const first = setup({ kv });
  const c2 = container({ id: 'beef', name: 'web2', ports: { '80/tcp': [{ hostIp: '', hostPort: 32769 }] } });
  await first.bridge.sync([container(), c2], false);
  await first.bridge.idle();
  const before = (await kv.get('/')).etcdIndex;
  const second = setup({ kv });
  await second.bridge.sync([container(), c2], true);
  await second.bridge.idle();
  assert.equal((await kv.get('/')).etcdIndex, before, 'no write: watchers are not woken');
  assert.equal(second.bridge.registeredServices().length, 2, 'adopted for refreshing');
  // One changed port: exactly that entry (value + metadata) is written.
  const moved = container({ id: 'beef', name: 'web2', ports: { '80/tcp': [{ hostIp: '', hostPort: 40000 }] } });
  await second.bridge.sync([container(), moved], true);
  await second.bridge.idle();
  assert.equal((await kv.get('/')).etcdIndex, before + 2);
  assert.deepEqual(await second.keys(), ['nginx/h1:web1:80=10.0.0.1:32768', 'nginx/h1:web2:80=10.0.0.1:40000']);
});

test('--cleanup removes this host\'s entries without a container, keeps other hosts\' entries', async () => {
  const kv = new MemoryKvBackend();
  const gone = container({ id: 'dead', name: 'old' });
  for (const [hostId, list] of [['h1', [container(), gone]], ['h2', [container({ id: 'other' })]]] as const) {
    const earlier = setup({ kv, hostId });
    await earlier.bridge.sync(list, false);
    await earlier.bridge.idle();
  }
  const restarted = setup({ kv });
  await restarted.bridge.sync([container()], false);
  await restarted.bridge.idle();
  assert.equal((await restarted.keys()).length, 3, 'without --cleanup the stale entry waits for its TTL');
  await restarted.bridge.sync([container()], true);
  await restarted.bridge.idle();
  assert.deepEqual(await restarted.keys(), ['nginx/h1:web1:80=10.0.0.1:32768', 'nginx/h2:web1:80=10.0.0.1:32768']);
});

test('a resync deregisters containers that stopped while events were missed', async () => {
  const { bridge, keys } = setup();
  await bridge.sync([container(), container({ id: 'beef', name: 'web2' })], false);
  await bridge.idle();
  await bridge.sync([container()], false);
  await bridge.idle();
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
});

test('refreshAll re-registers an entry that expired while the store was away', async () => {
  const { kv, bridge, keys } = setup();
  bridge.add(container());
  await bridge.idle();
  await kv.delete('/services/nginx/h1:web1:80');
  bridge.refreshAll();
  await bridge.idle();
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
});

test('forget leaves the entry for its TTL and stops refreshing it (--deregister on-success after a failure)', async () => {
  const { bridge, keys } = setup();
  bridge.add(container());
  await bridge.idle();
  bridge.forget('c0ffee', 'exited 1');
  assert.deepEqual(bridge.registeredServices(), []);
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
});

test('a container turning unhealthy is taken out; healthy again, it is back', async () => {
  const { bridge, keys } = setup();
  bridge.add(container({ health: 'healthy' }));
  await bridge.idle();
  bridge.add(container({ health: 'unhealthy' }));
  await bridge.idle();
  assert.deepEqual(await keys(), []);
  bridge.add(container({ health: 'healthy' }));
  await bridge.idle();
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
});

test('a deregistration the store did not take is retried with the next refresh', async () => {
  const kv = new MemoryKvBackend();
  // Fault injection around the real adapter: the next delete fails as if the store were away.
  class StoreAwayOnce extends EtcdAdapter {
    failures = 0;
    override async deregister(s: Parameters<EtcdAdapter['deregister']>[0]): Promise<void> {
      if (this.failures-- > 0) throw new Error('store unreachable');
      return super.deregister(s);
    }
  }
  const adapter = new StoreAwayOnce(kv, '/services', 30);
  const bridge = new Bridge(adapter, { ...serviceOptions(), waitForPort: false, waitForPortTimeoutMs: 1000 });
  bridge.add(container());
  await bridge.idle();
  adapter.failures = 1;
  bridge.remove('c0ffee', 'kill');
  await bridge.idle();
  assert.equal((await adapter.services()).length, 1, 'the failed delete left the entry');
  bridge.refreshAll();
  await bridge.idle();
  assert.deepEqual(await adapter.services(), []);
});

test('a resync puts back an entry changed or deleted behind the registrator\'s back', async () => {
  const { kv, bridge, keys } = setup();
  await bridge.sync([container()], false);
  await bridge.idle();
  await kv.set('/services/nginx/h1:web1:80', '6.6.6.6:1');
  await bridge.sync([container()], false);
  await bridge.idle();
  assert.deepEqual(await keys(), ['nginx/h1:web1:80=10.0.0.1:32768']);
});

test('--cleanup removes an entry left under a service\'s old name, though its id lives on', async () => {
  const kv = new MemoryKvBackend();
  const first = setup({ kv });
  await first.bridge.sync([container()], false);
  await first.bridge.idle();
  const renamed = container({ labels: { SERVICE_NAME: 'web' } });
  const restarted = setup({ kv });
  await restarted.bridge.sync([renamed], true);
  await restarted.bridge.idle();
  assert.deepEqual(await restarted.keys(), ['web/h1:web1:80=10.0.0.1:32768']);
});
