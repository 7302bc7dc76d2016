// TLS to the store (a gap users of gliderlabs/registrator reported): real etcd 3.4 serving https
// with client-certificate auth; the registrator writes through it with --cert-file/--key-file/--trusted-ca-file.
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureBusyboxImage, removeContainers, startBusybox } from '../lib/testing/docker.ts';
import { freePort } from '../lib/testing/ports.ts';
import { startProcess, waitFor, type TestProcess } from '../lib/testing/process.ts';
import { hasBinary, requireComponent, requireDocker, requireEtcd } from '../lib/testing/requirements.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';
import { startRegistrator } from './testing/harness.ts';
import { makeTestCerts } from './testing/tls-certs.ts';

test('registrator writes to an https store that requires client certificates', { timeout: 60_000 }, async (t) => {
  if (!requireDocker(t) || !requireEtcd(t)) return;
  if (!requireComponent(t, 'openssl', hasBinary('openssl'), 'apt-get install -y openssl')) return;
  const prefix = 'berth-reg-tls-';
  await removeContainers(prefix);
  await ensureBusyboxImage();
  const certs = await makeTestCerts();
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-reg-etcd-tls-'));
  const url = `https://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const procs: TestProcess[] = [];
  const kv = new HttpKvBackend({ endpoints: [url], tls: { ca: await readFile(certs.ca), cert: await readFile(certs.clientCert), key: await readFile(certs.clientKey) } });
  try {
    procs.push(startProcess('etcd', [
      '--enable-v2', '--name', 'tls', '--data-dir', dataDir, '--log-level', 'error',
      '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tls=${peer}`,
      '--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.ca, '--client-cert-auth',
    ]));
    await waitFor('etcd over https', async () => (await kv.get('/')).etcdIndex >= 0, 20_000, 100);
    const tlsFlags = ['--cert-file', certs.clientCert, '--key-file', certs.clientKey, '--trusted-ca-file', certs.ca];
    procs.push(await startRegistrator(url, [...tlsFlags, '--host-id', 'tls', '--ip', '127.0.0.1', '--require-label', 'berth-reg.run=tls']));
    const c = await startBusybox({ name: `${prefix}web`, publish: [80], labels: { 'berth-reg.run': 'tls' } });
    const key = `/services/berth-test-busybox/tls:${c.name}:80`;
    await waitFor('key over https', async () => (await kv.get(key)).node?.value === `127.0.0.1:${c.hostPorts[80]}`, 2000, 20);
    // Without a client certificate the store refuses the same read: TLS is really in force.
    const bare = new HttpKvBackend({ endpoints: [url], retries: 0, tls: { ca: await readFile(certs.ca) } });
    await assert.rejects(bare.get(key));
    await bare.close();
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await kv.close();
    await removeContainers(prefix);
    await rm(dataDir, { recursive: true, force: true });
    await certs.remove();
  }
});
