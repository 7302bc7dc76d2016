import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../lib/testing/process.ts';
import { readClientTls } from '../../lib/tls-flags.ts';
import { HttpKvBackend } from '../client/http-backend.ts';
import { memberSpecs, startMember, type RunningMember } from './tls-testing/berth-member.ts';
import { httpsRequest, putForm, type TlsClientOptions } from './tls-testing/https-request.ts';
import { makeTestCa, type CertFiles } from './tls-testing/throwaway-ca.ts';
import { basicAuthHeader } from './auth-testing/probe.ts';

const load = (c: CertFiles): { cert: Buffer; key: Buffer } => ({ cert: readFileSync(c.cert), key: readFileSync(c.key) });
const basic = (u: string, p: string) => ({ authorization: basicAuthHeader(u, p) });

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    const r = await p;
    return `answered ${JSON.stringify(r)}`;
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

test('client TLS with --client-cert-auth: no cert and another CA are refused, a good cert works, CN is the user', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sec-ca-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = makeTestCa(dir, 'good');
  const otherCa = makeTestCa(dir, 'other');
  const server = ca.issue('127.0.0.1');
  const [spec] = await memberSpecs('tls', 1, 'https', 'http');
  const member = await startMember(spec!, [spec!], ['--cert-file', server.cert, '--key-file', server.key, '--trusted-ca-file', ca.cert, '--client-cert-auth']);
  t.after(() => member.stop());
  const url = spec!.clientUrl;
  const root: TlsClientOptions = { ca: ca.pem(), ...load(ca.issue('root')) };
  await waitFor('berth over https', async () => (await httpsRequest(`${url}/version`, root)).status === 200, 30_000);

  assert.match(await refused(httpsRequest(`${url}/v2/keys/`, { ca: ca.pem() })), /^refused/, 'a client without a certificate was served');
  assert.match(await refused(httpsRequest(`${url}/v2/keys/`, { ca: ca.pem(), ...load(otherCa.issue('root')) })), /^refused/, 'a certificate from another CA was accepted');
  assert.match(await refused(httpsRequest(`${url}/v2/keys/`, { ...root, ca: otherCa.pem() })), /^refused/, 'the client trusted a server its CA did not sign');
  assert.equal((await putForm(`${url}/v2/keys/app/x`, root, 'hello')).status, 201);

  // Auth on: the certificate's CN names the user when no Authorization header is sent.
  const json = (path: string, body: unknown) => httpsRequest(`${url}${path}`, root, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal((await json('/v2/auth/users/root', { user: 'root', password: 'rootpw' })).status, 201);
  assert.equal((await json('/v2/auth/roles/reader', { role: 'reader', permissions: { kv: { read: ['/app/*'], write: [] } } })).status, 201);
  assert.equal((await json('/v2/auth/users/alice', { user: 'alice', password: 'alicepw', roles: ['reader'] })).status, 200);
  assert.equal((await httpsRequest(`${url}/v2/auth/enable`, root, { method: 'PUT' })).status, 200);
  assert.equal((await json('/v2/auth/roles/guest', { role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } })).status, 200, 'root by CN may change roles');

  const alice: TlsClientOptions = { ca: ca.pem(), ...load(ca.issue('alice')) };
  const nobody: TlsClientOptions = { ca: ca.pem(), ...load(ca.issue('nobody')) };
  assert.equal((await httpsRequest(`${url}/v2/keys/app/x`, alice)).status, 200, 'alice reads /app/*');
  assert.equal((await putForm(`${url}/v2/keys/app/x`, alice, 'no')).status, 401, 'alice may not write');
  assert.equal((await httpsRequest(`${url}/v2/keys/other`, alice)).status, 401, 'alice may not read outside /app');
  assert.equal((await httpsRequest(`${url}/v2/auth/users`, alice)).status, 401, 'alice is not root');
  assert.equal((await httpsRequest(`${url}/v2/keys/app/x`, nobody)).status, 401, 'an unknown CN is the guest, and the guest has nothing');
  assert.equal((await httpsRequest(`${url}/v2/keys/app/x`, nobody, { headers: basic('alice', 'alicepw') })).status, 200, 'basic auth beats the CN');
  assert.equal((await httpsRequest(`${url}/v2/keys/app/x`, root, { headers: basic('alice', 'wrong') })).status, 401, 'a wrong password is nobody, even with a root CN');
  assert.equal((await putForm(`${url}/v2/keys/app/x`, root, 'by-root')).status, 200);

  // The companions' client (HttpKvBackend) with the --cacert/--cert/--key helper.
  const rootCert = ca.issue('root');
  const kv = new HttpKvBackend({ endpoints: [url], tls: readClientTls({ cacert: ca.cert, cert: rootCert.cert, key: rootCert.key }) });
  t.after(() => kv.close());
  await kv.set('/app/from-client', 'over tls');
  assert.equal((await kv.get('/app/from-client')).node?.value, 'over tls');
});

test('--auto-tls and --peer-auto-tls: a two-member cluster over self-signed TLS', { timeout: 120_000 }, async (t) => {
  const specs = await memberSpecs('auto', 2, 'https', 'https');
  const members: RunningMember[] = [];
  t.after(() => Promise.all(members.map((m) => m.stop())));
  for (const s of specs) members.push(await startMember(s, specs, ['--auto-tls', '--peer-auto-tls']));
  const insecure: TlsClientOptions = { insecure: true };
  await waitFor('a write over self-signed client and peer TLS', async () => (await putForm(`${specs[0]!.clientUrl}/v2/keys/auto`, insecure, 'tls')).status < 300, 40_000);
  await waitFor('the other member to apply it', async () => (await httpsRequest(`${specs[1]!.clientUrl}/v2/keys/auto`, insecure)).status === 200, 10_000);
  assert.match(await refused(httpsRequest(`${specs[0]!.clientUrl}/v2/keys/auto`, {})), /^refused/, 'a self-signed certificate passed verification');
});

test('peer TLS: members with the cluster CA form a cluster; a member with a certificate from another CA cannot join', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sec-peer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = makeTestCa(dir, 'cluster');
  const rogueCa = makeTestCa(dir, 'rogue');
  const specs = await memberSpecs('peer', 3, 'http', 'https');
  const members: RunningMember[] = [];
  t.after(() => Promise.all(members.map((m) => m.stop())));
  for (const [i, s] of specs.entries()) {
    const issuer = i === 2 ? rogueCa : ca;
    const c = issuer.issue(`peer${i}`);
    members.push(await startMember(s, specs, ['--peer-cert-file', c.cert, '--peer-key-file', c.key, '--peer-trusted-ca-file', issuer.cert, '--peer-client-cert-auth']));
  }
  const [a, b, rogue] = specs as [typeof specs[0], typeof specs[0], typeof specs[0]];
  await waitFor('the two good members to elect a leader and commit', async () => {
    const res = await fetch(`${a!.clientUrl}/v2/keys/peer-check`, { method: 'PUT', body: new URLSearchParams({ value: 'committed' }), signal: AbortSignal.timeout(2000) });
    return res.status < 300;
  }, 40_000);
  await waitFor('the other good member to apply it', async () => (await fetch(`${b!.clientUrl}/v2/keys/peer-check`)).status === 200, 10_000);
  // Give the rogue member several election timeouts: it must neither learn the write nor a leader.
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal((await fetch(`${rogue!.clientUrl}/v2/keys/peer-check`)).status, 404, 'the member with the wrong CA received cluster data');
  const health = await fetch(`${rogue!.clientUrl}/health`);
  assert.equal(health.status, 503, `the rogue member found a leader: ${await health.text()}`);
});
