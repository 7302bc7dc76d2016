import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startCluster } from '../../lib/testing/store-cluster.ts';
import { freePort } from '../../lib/testing/ports.ts';

interface EtcdErrorBody {
  errorCode: number;
  message: string;
  cause?: string;
  index: number;
}

async function expectEtcdError(res: Response, status: number, errorCode: number): Promise<EtcdErrorBody> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as EtcdErrorBody;
  assert.equal(body.errorCode, errorCode, JSON.stringify(body));
  assert.equal(typeof body.message, 'string');
  assert.equal(typeof body.index, 'number');
  return body;
}

/** Sends raw bytes and returns the raw answer (for what fetch refuses to send). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let out = '';
    s.on('data', (b) => (out += b.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, 2000);
  });
}

test('malformed requests get etcd error JSON with the right status, and the server stays up', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  const port = Number(new URL(url).port);
  const put = (path: string, body: Record<string, string> | string, type = 'application/x-www-form-urlencoded') =>
    fetch(`${url}/v2/keys${path}`, { method: 'PUT', body: typeof body === 'string' ? body : new URLSearchParams(body), headers: { 'content-type': type } });

  await expectEtcdError(await put('/a', { value: '1', ttl: 'soon' }), 400, 202);
  await expectEtcdError(await put('/a', { value: '1', ttl: '-1' }), 400, 202);
  await expectEtcdError(await put('/a', { value: '1', ttl: '99999999999999999999999' }), 400, 202);
  await expectEtcdError(await put('/a', { value: '1', prevIndex: 'last' }), 400, 203);
  await expectEtcdError(await fetch(`${url}/v2/keys/a?wait=true&waitIndex=-3`), 400, 203);
  await expectEtcdError(await put('/a', { value: '1', prevExist: 'perhaps' }), 400, 209);
  await expectEtcdError(await put('/a', { value: '1', prevValue: '' }), 400, 201);
  await expectEtcdError(await fetch(`${url}/v2/keys/a?recursive=banana`), 400, 209);
  await expectEtcdError(await put('/a?refresh=true', { value: 'x', ttl: '5' }), 400, 211);
  await expectEtcdError(await put('/a?refresh=true', {}), 400, 212);

  // A body that is not a valid form: Go (and berth) decode what they can.
  const mangled = await put('/mangled', 'value=%zz&&=&value2');
  assert.ok(mangled.status < 500, `mangled form gave ${mangled.status}`);

  // Over-long keys and oversized values.
  const longKey = '/' + 'k'.repeat(9000);
  const tooLong = await put(longKey, { value: '1' });
  assert.ok(tooLong.status === 400 || tooLong.status === 431 || tooLong.status === 414, `long key gave ${tooLong.status}`);
  const big = await put('/big', { value: 'x'.repeat(2 * 1024 * 1024) });
  const bigBody = await expectEtcdError(big, 413, 210);
  assert.match(bigBody.cause ?? '', /max-request-bytes/);
  const justUnder = await put('/fits', { value: 'y'.repeat(1024 * 1024) });
  assert.equal(justUnder.status, 201);

  // Unsupported methods and paths.
  const patch = await fetch(`${url}/v2/keys/a`, { method: 'PATCH' });
  assert.equal(patch.status, 405);
  assert.equal(patch.headers.get('allow'), 'HEAD,GET,PUT,POST,DELETE');
  assert.equal((await fetch(`${url}/v2/nothing-here`)).status, 404);
  assert.equal((await fetch(`${url}/v2/stats/self`, { method: 'DELETE' })).status, 405);
  assert.equal((await fetch(`${url}/v2/members`, { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } })).status, 400);
  assert.equal((await fetch(`${url}/v2/members`, { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } })).status, 415);

  // Bytes no HTTP client would send.
  assert.match(await raw(port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await raw(port, 'GET /v2/keys/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await raw(port, 'GET /v2/keys/a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await raw(port, 'GET /v2/keys/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 301[^]*Location: \/etc\/passwd/);

  // Nothing above hurt the store: it still reads and writes.
  const ok = await put('/still-up', { value: 'yes' });
  assert.equal(ok.status, 201);
  const got = (await (await fetch(`${url}/v2/keys/still-up`)).json()) as { node: { value: string } };
  assert.equal(got.node.value, 'yes');
});

test('a slow client cannot hold the server', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  const port = Number(new URL(url).port);
  // 50 connections that send half a request line and stall.
  const stalls = Array.from({ length: 50 }, () => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n'));
    s.on('error', () => {});
    s.resume(); // read, so the server's close is seen
    return s;
  });
  t.after(() => stalls.forEach((s) => s.destroy()));
  // 50 more that send complete headers and then trickle a body that never ends.
  const trickles = Array.from({ length: 50 }, (_, i) => {
    const s = connect(port, '127.0.0.1', () => s.write(`PUT /v2/keys/t${i} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nvalue=`));
    const drip = setInterval(() => s.writable && s.write('x'), 500);
    s.on('error', () => {});
    s.on('close', () => clearInterval(drip));
    return s;
  });
  t.after(() => trickles.forEach((s) => s.destroy()));
  const started = Date.now();
  const res = await fetch(`${url}/v2/keys/slow`, { method: 'PUT', body: new URLSearchParams({ value: 'served' }) });
  assert.equal(res.status, 201);
  assert.ok(Date.now() - started < 2000, 'a normal client waited behind stalled ones');
  // The server does not wait forever: stalled heads are cut after the 10 s headers timeout.
  const closedBy = (s: import('node:net').Socket) => new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r())));
  await Promise.race([Promise.all(stalls.map(closedBy)), new Promise((_, rej) => setTimeout(() => rej(new Error(`${stalls.filter((s) => !s.closed).length} of 50 stalled connections still open after 15 s`)), 15_000))]);
  const again = await fetch(`${url}/v2/keys/slow`);
  assert.equal(again.status, 200);
});

test('oversized heads and bodies and pipelined watches are refused; others keep being served', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  const port = Number(new URL(url).port);

  // A 100 KB header: 431, as Go answers a head over its limit.
  assert.match(await raw(port, `GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(100_000)}\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 431/);

  // A 1 GB body announced and slowly sent: refused at once, and the connection is closed.
  const huge = await new Promise<{ head: string; ms: number; closed: boolean }>((resolve) => {
    const started = Date.now();
    let head = '';
    const s = connect(port, '127.0.0.1', () => s.write(`PUT /v2/keys/huge HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${2 ** 30}\r\n\r\nvalue=`));
    const drip = setInterval(() => s.writable && s.write('x'.repeat(1000)), 50);
    s.on('data', (b) => (head += b.toString()));
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(drip);
      resolve({ head, ms: Date.now() - started, closed: true });
    });
    setTimeout(() => {
      clearInterval(drip);
      s.destroy();
      resolve({ head, ms: Date.now() - started, closed: false });
    }, 5000);
  });
  assert.match(huge.head, /^HTTP\/1\.1 413/);
  assert.ok(huge.closed && huge.ms < 3000, `the 1 GB upload held its connection for ${huge.ms} ms`);

  // Auth endpoints have the same limit (a body over it is 413, not an error).
  const bigRole = await fetch(`${url}/v2/auth/roles/big`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'big', permissions: { kv: { read: ['x'.repeat(2 * 1024 * 1024)] } } }) });
  assert.equal(bigRole.status, 413);

  // 50 watches pipelined on one connection: the server stops at its per-connection bound.
  const pipelined = connect(port, '127.0.0.1', () => pipelined.write('GET /v2/keys/w?wait=true HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(50)));
  pipelined.on('error', () => {});
  pipelined.on('data', () => {});
  t.after(() => pipelined.destroy());
  await new Promise<void>((r) => (pipelined.closed ? r() : pipelined.once('close', () => r())));
  const stats = (await (await fetch(`${url}/v2/stats/store`)).json()) as { watchers: number };
  assert.equal(stats.watchers, 0, 'watches of the closed connection are still registered');

  const ok = await fetch(`${url}/v2/keys/after`, { method: 'PUT', body: new URLSearchParams({ value: 'fine' }) });
  assert.equal(ok.status, 201);
});

test('berth store refuses bad flags and says which', () => {
  const berth = new URL('../../bin/berth', import.meta.url).pathname;
  const cases: [string[], RegExp][] = [
    [['--snapshot-count', 'many'], /--snapshot-count: expected an integer/],
    [['--no-such-flag'], /--no-such-flag: unknown flag/],
    [['--heartbeat-interval', '100', '--election-timeout', '200'], /--election-timeout: must be at least 5/],
    [['--listen-client-urls', 'not a url'], /--listen-client-urls: "not a url" is not a URL/],
    [['--initial-cluster', 'a=http://127.0.0.1:1', '--name', 'b'], /--initial-cluster: does not name this member "b"/],
    [['--initial-cluster-state', 'old'], /--initial-cluster-state: expected one of new, existing/],
    [['--listen-client-urls', 'https://127.0.0.1:1'], /--cert-file: an https:\/\/ URL in --listen-client-urls needs --cert-file and --key-file, or --auto-tls/],
    [['--listen-peer-urls', 'https://127.0.0.1:1'], /--peer-cert-file: an https:\/\/ URL in --listen-peer-urls needs/],
    [['--cert-file', '/nonexistent/cert.pem', '--key-file', '/nonexistent/key.pem'], /--cert-file: cannot read \/nonexistent\/cert.pem: ENOENT/],
    [['--cert-file', '/nonexistent/cert.pem'], /--key-file: is required with --cert-file/],
    [['--listen-client-urls', 'ftp://127.0.0.1:1'], /--listen-client-urls: "ftp:\/\/127.0.0.1:1": expected http:\/\/host:port or https:\/\/host:port/],
    [['--client-cert-auth', '--auto-tls', '--listen-client-urls', 'https://127.0.0.1:1'], /--client-cert-auth: needs --trusted-ca-file/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [berth, 'store', ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, BERTH_DATA_DIR: '/nonexistent/never-created' } });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const env = spawnSync(process.execPath, [berth, 'store'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, BERTH_SNAPSHOT_COUNT: 'lots' } });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /BERTH_SNAPSHOT_COUNT: expected an integer/);
});

test('berth store names the flag whose address is taken, for client and peer ports, and exits', async (t) => {
  const berth = new URL('../../bin/berth', import.meta.url).pathname;
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => taken.close());
  const busy = `http://127.0.0.1:${(taken.address() as AddressInfo).port}`;
  const free = async () => `http://127.0.0.1:${await freePort()}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-busy-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const peer = await free();
  const cases: [string[], RegExp][] = [
    [['--listen-client-urls', busy, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `default=${peer}`], /--listen-client-urls http:\/\/127\.0\.0\.1:\d+: cannot listen: address already in use/],
    [['--listen-client-urls', await free(), '--listen-peer-urls', busy, '--initial-advertise-peer-urls', busy, '--initial-cluster', `default=${busy},b=${await free()}`], /--listen-peer-urls http:\/\/127\.0\.0\.1:\d+: cannot listen: address already in use/],
  ];
  for (const [i, [args, message]] of cases.entries()) {
    const r = spawnSync(process.execPath, [berth, 'store', '--data-dir', join(dataDir, String(i)), ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
