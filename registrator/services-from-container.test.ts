import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exclusionReason, imageBaseName, servicesFor } from './services-from-container.ts';
import { container, serviceOptions } from './test-fixtures.ts';

test('a published port becomes <image base name> at the advertised host address and host port', () => {
  const [s, ...rest] = servicesFor(container(), serviceOptions());
  assert.equal(rest.length, 0);
  assert.equal(s!.name, 'nginx');
  assert.equal(s!.id, 'h1:web1:80');
  assert.equal(`${s!.ip}:${s!.port}`, '10.0.0.1:32768');
  assert.deepEqual(s!.probe, { ip: '172.17.0.5', port: 80 });
});

test('image base names drop registry, path, tag and digest', () => {
  assert.equal(imageBaseName('registry.local:5000/team/web:1.2@sha256:abc'), 'web');
  assert.equal(imageBaseName('redis'), 'redis');
  assert.equal(imageBaseName('library/redis:7'), 'redis');
});

test('--ip beats a specific binding address, which beats the default', () => {
  const c = container({ ports: { '80/tcp': [{ hostIp: '192.168.1.7', hostPort: 8080 }] } });
  assert.equal(servicesFor(c, serviceOptions())[0]!.ip, '192.168.1.7');
  assert.equal(servicesFor(c, serviceOptions({ hostIp: '203.0.113.9' }))[0]!.ip, '203.0.113.9');
});

test('exposed but unpublished ports are skipped unless --internal, which uses container ip and port', () => {
  const c = container({ ports: { '80/tcp': [{ hostIp: '0.0.0.0', hostPort: 32768 }], '9000/tcp': [] } });
  assert.deepEqual(servicesFor(c, serviceOptions()).map((s) => s.id), ['h1:web1:80']);
  const internal = servicesFor(c, serviceOptions({ internal: true }));
  assert.deepEqual(internal.map((s) => `${s.name} ${s.ip}:${s.port}`), ['nginx-80 172.17.0.5:80', 'nginx-9000 172.17.0.5:9000']);
});

test('several ports: names get -<port> unless a per-port SERVICE_<port>_NAME names them; udp ids end in :udp', () => {
  const c = container({
    env: { SERVICE_NAME: 'dns', SERVICE_53_NAME: 'resolver' },
    ports: { '53/udp': [{ hostIp: '', hostPort: 5353 }], '8080/tcp': [{ hostIp: '', hostPort: 18080 }] },
  });
  const services = servicesFor(c, serviceOptions());
  assert.deepEqual(services.map((s) => [s.name, s.id, s.proto]), [
    ['resolver', 'h1:web1:53:udp', 'udp'],
    ['dns-8080', 'h1:web1:8080', 'tcp'],
  ]);
});

test('labels override env; SERVICE_ID replaces the id; tags merge with --tags; CHECK_* are not attributes', () => {
  const c = container({
    env: { SERVICE_NAME: 'from-env', SERVICE_TAGS: 'a,b', SERVICE_REGION: 'eu', SERVICE_CHECK_HTTP: '/health', PATH: '/bin' },
    labels: { SERVICE_NAME: 'from-label', SERVICE_80_ID: 'custom-id', SERVICE_80_TAGS: 'b, c' },
  });
  const [s] = servicesFor(c, serviceOptions({ tags: ['prod', 'a'] }));
  assert.equal(s!.name, 'from-label');
  assert.equal(s!.id, 'custom-id');
  assert.deepEqual(s!.tags, ['b', 'c', 'prod', 'a']);
  assert.deepEqual(s!.attrs, { region: 'eu' });
});

test('SERVICE_IGNORE drops the container, SERVICE_<port>_IGNORE one port', () => {
  assert.deepEqual(servicesFor(container({ labels: { SERVICE_IGNORE: 'true' } }), serviceOptions()), []);
  const c = container({ env: { SERVICE_443_IGNORE: '1' }, ports: { '80/tcp': [{ hostIp: '', hostPort: 1 }], '443/tcp': [{ hostIp: '', hostPort: 2 }] } });
  assert.deepEqual(servicesFor(c, serviceOptions()).map((s) => s.id), ['h1:web1:80']);
});

test('--network and SERVICE_NETWORK pick the address on user-defined networks', () => {
  const c = container({ networks: { bridge: '172.17.0.5', backend: '10.9.0.3' }, networkMode: 'bridge' });
  assert.equal(servicesFor(c, serviceOptions({ internal: true }))[0]!.ip, '172.17.0.5');
  assert.equal(servicesFor(c, serviceOptions({ internal: true, network: 'backend' }))[0]!.ip, '10.9.0.3');
  const labelled = container({ ...c, labels: { SERVICE_NETWORK: 'backend' } });
  assert.equal(servicesFor(labelled, serviceOptions({ internal: true }))[0]!.ip, '10.9.0.3');
  assert.deepEqual(servicesFor(c, serviceOptions({ internal: true, network: 'missing' })), [], 'no address on that network: nothing to advertise');
});

test('not running, paused, unhealthy or without the required label: no services, with the reason', () => {
  const opts = serviceOptions();
  assert.equal(exclusionReason(container({ running: false }), opts), 'not running');
  assert.equal(exclusionReason(container({ paused: true }), opts), 'paused');
  assert.equal(exclusionReason(container({ health: 'starting' }), opts), 'health starting');
  assert.equal(exclusionReason(container({ health: 'healthy' }), opts), undefined);
  const labelOpts = serviceOptions({ requireLabel: 'berth.register=yes' });
  assert.equal(exclusionReason(container(), labelOpts), 'no label berth.register=yes');
  assert.equal(exclusionReason(container({ labels: { 'berth.register': 'no' } }), labelOpts), 'no label berth.register=yes');
  assert.equal(exclusionReason(container({ labels: { 'berth.register': 'yes' } }), labelOpts), undefined);
  assert.deepEqual(servicesFor(container({ health: 'unhealthy' }), opts), []);
});

test('the IPv4 binding wins when a port is published on 0.0.0.0 and ::', () => {
  const c = container({ ports: { '80/tcp': [{ hostIp: '::', hostPort: 40001 }, { hostIp: '0.0.0.0', hostPort: 40000 }] } });
  assert.equal(servicesFor(c, serviceOptions())[0]!.port, 40000);
});

test('host network mode: exposed ports are the host ports', () => {
  const c = container({ networkMode: 'host', networks: { host: '' }, ports: { '8080/tcp': [] } });
  const [s] = servicesFor(c, serviceOptions());
  assert.equal(`${s!.ip}:${s!.port}`, '10.0.0.1:8080');
  assert.deepEqual(s!.probe, { ip: '10.0.0.1', port: 8080 });
});
