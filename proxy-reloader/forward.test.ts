/**
 * Requests through the built-in proxy to upstreams that answer with exact bytes: every way an
 * HTTP/1.1 answer can be framed, request bodies both ways, hop-by-hop fields, connection reuse,
 * and upstreams that break the protocol or the connection.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { silentLogger } from '../lib/log.ts';
import { waitFor } from '../lib/testing/process.ts';
import { MemoryKvBackend } from '../store/client/memory-backend.ts';
import { ProxyMode } from './proxy-mode.ts';
import { parseRoute } from './routes.ts';
import { httpExchange } from './testing/http-get.ts';

/** What the scripted upstream writes for a request path (its answer, exactly). */
type Script = (socket: Socket, path: string, method: string) => void;

/** A raw TCP upstream: reads request heads (requests carry no body here) and runs the script. */
async function scriptedUpstream(t: TestContext, script: Script): Promise<{ address: string; connections: () => number; closed: () => number }> {
  let connections = 0;
  let closed = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => {
      closed++;
      sockets.delete(socket);
    });
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const [method, path] = buf.slice(0, buf.indexOf(' ', buf.indexOf(' ') + 1)).split(' ') as [string, string];
        buf = buf.slice(end + 4);
        script(socket, path, method);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const port = (server.address() as { port: number }).port;
  return { address: `127.0.0.1:${port}`, connections: () => connections, closed: () => closed };
}

async function proxyTo(t: TestContext, upstreams: Record<string, string>): Promise<number> {
  const kv = new MemoryKvBackend();
  const routes = Object.keys(upstreams).map((name) => parseRoute(`${name}.test=/services/${name}`));
  const proxy = new ProxyMode({ kv, routes, listenHost: '127.0.0.1', listenPort: 0, strategy: 'round-robin', maxFails: 100, ejectMs: 1000, connectTimeoutMs: 2000, maxRemovalPct: 100, removalGraceMs: 0, statusPath: '/status', logger: silentLogger });
  t.after(async () => {
    await proxy.stop();
    await kv.close();
  });
  for (const [name, address] of Object.entries(upstreams)) await kv.set(`/services/${name}/u1`, address);
  await proxy.start();
  await waitFor('routes', async () => (await httpExchange(proxy.server.port, '/status')).body.includes(Object.values(upstreams).at(-1)!), 5000);
  return proxy.server.port;
}

const ANSWERS: Record<string, string[]> = {
  '/length': ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\nhello'],
  '/chunked': ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel', 'lo\r\n6\r\n, chun\r\n', '4\r\nked!\r\n0\r\nX-Trailer: t\r\n\r\n'],
  '/interim': ['HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n', 'HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated'],
  '/hop': ['HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: 1\r\nConnection: X-Other\r\nX-Other: 2\r\nKeep-Alive: timeout=30\r\nProxy-Authenticate: Basic\r\nContent-Length: 2\r\n\r\nok'],
  '/empty': ['HTTP/1.1 204 No Content\r\n\r\n'],
  '/head': ['HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'],
  '/bad-status': ['HTTP/1.1 2xx OK\r\n\r\n'],
  '/smuggle': ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\nok'],
};

const rawScript: Script = (socket, path, method) => {
  if (path === '/close-framed') {
    socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection ends');
    return;
  }
  if (path === '/cut') {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..');
    setTimeout(() => socket.destroy(), 20);
    return;
  }
  if (path === '/silent-close') {
    socket.destroy();
    return;
  }
  const parts = ANSWERS[method === 'HEAD' ? '/head' : path] ?? ['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'];
  parts.forEach((p, i) => setTimeout(() => socket.write(p), i * 5));
};

test('answers framed by length, chunks, interim answers, the close, and none reach the client whole', async (t) => {
  const up = await scriptedUpstream(t, rawScript);
  const port = await proxyTo(t, { raw: up.address });
  const get = (path: string, method = 'GET') => httpExchange(port, path, { host: 'raw.test', method });

  const length = await get('/length');
  assert.equal(length.status, 200);
  assert.equal(length.body, 'hello');
  assert.equal(length.headers['x-kept'], 'yes');

  const chunked = await get('/chunked');
  assert.equal(chunked.body, 'hello, chunked!');
  assert.equal(chunked.headers['x-trailer'], undefined);

  const interim = await get('/interim');
  assert.equal(interim.status, 201);
  assert.equal(interim.body, 'created');

  const closeFramed = await get('/close-framed');
  assert.equal(closeFramed.status, 200);
  assert.equal(closeFramed.body, 'until the connection ends');

  const empty = await get('/empty');
  assert.equal(empty.status, 204);
  assert.equal(empty.body, '');

  const head = await get('/anything', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '1000');
  assert.equal(head.body, '');

  const hop = await get('/hop');
  assert.equal(hop.body, 'ok');
  for (const h of ['x-secret', 'x-other', 'keep-alive', 'proxy-authenticate']) assert.equal(hop.headers[h], undefined, `${h} is hop-by-hop`);
});

test('keep-alive connections are reused; a Keep-Alive timeout hint and a close are honoured', async (t) => {
  const up = await scriptedUpstream(t, rawScript);
  const port = await proxyTo(t, { raw: up.address });
  const base = up.connections(); // the health of the route was read through /status, not the upstream
  for (let i = 0; i < 20; i++) assert.equal((await httpExchange(port, '/length', { host: 'raw.test' })).body, 'hello');
  assert.equal(up.connections() - base, 1, 'twenty requests in a row share one connection');

  // An answer framed by the close cannot leave a reusable connection behind.
  await httpExchange(port, '/close-framed', { host: 'raw.test' });
  await waitFor('the upstream saw the close', () => up.closed() >= 1, 5000);
  assert.equal((await httpExchange(port, '/length', { host: 'raw.test' })).body, 'hello');
  assert.equal(up.connections() - base, 2);

  const hinted = await scriptedUpstream(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok'));
  const port2 = await proxyTo(t, { hinted: hinted.address });
  for (let i = 0; i < 3; i++) assert.equal((await httpExchange(port2, '/', { host: 'hinted.test' })).body, 'ok');
  assert.equal(hinted.connections(), 3, 'an upstream that keeps idle connections 1 s gets no reuse (we stop 1 s early)');
});

test('an upstream that closes an idle connection: the next request opens a new one', async (t) => {
  const up = await scriptedUpstream(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const port = await proxyTo(t, { raw: up.address });
  for (let i = 0; i < 3; i++) {
    assert.equal((await httpExchange(port, '/', { host: 'raw.test' })).body, 'ok');
    await waitFor('the upstream saw its connection close', () => up.closed() === i + 1, 5000);
  }
});

test('malformed answers, a cut connection and a silent close give 502 or a cut answer, never a whole-looking one', async (t) => {
  const up = await scriptedUpstream(t, rawScript);
  const port = await proxyTo(t, { raw: up.address });
  const bad = await httpExchange(port, '/bad-status', { host: 'raw.test' });
  assert.equal(bad.status, 502);
  assert.match(bad.body, /502 bad gateway: .*not an HTTP\/1\.x status line/);

  const smuggle = await httpExchange(port, '/smuggle', { host: 'raw.test' });
  assert.equal(smuggle.status, 502);
  assert.match(smuggle.body, /conflicting Content-Length/);

  const silent = await httpExchange(port, '/silent-close', { host: 'raw.test' });
  assert.equal(silent.status, 502);
  assert.match(silent.body, /closed/);

  await assert.rejects(httpExchange(port, '/cut', { host: 'raw.test' }), /aborted|socket hang up|ECONNRESET/);
  // The proxy is still fine afterwards.
  assert.equal((await httpExchange(port, '/length', { host: 'raw.test' })).body, 'hello');
});

test('request bodies: with a length they pass as they are, chunked ones are re-chunked; hop-by-hop fields stay behind', async (t) => {
  const echo = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => echo.close(() => r())));
  const port = await proxyTo(t, { echo: `127.0.0.1:${(echo.address() as { port: number }).port}` });

  const send = (headers: Record<string, string>, parts: string[]) =>
    new Promise<{ status: number; json: { headers: Record<string, string>; body: string } }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/in?x=1', headers: { host: 'echo.test', ...headers }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) as { headers: Record<string, string>; body: string } }));
      });
      req.on('error', reject);
      for (const p of parts) req.write(p);
      req.end();
    });

  const big = 'x'.repeat(256 * 1024);
  const withLength = await send({ 'content-length': String(big.length + 4), connection: 'keep-alive, X-Drop', 'x-drop': 'secret', 'x-forwarded-for': '10.0.0.1' }, ['head', big]);
  assert.equal(withLength.status, 200);
  assert.equal(withLength.json.body, 'head' + big);
  assert.equal(withLength.json.headers['content-length'], String(big.length + 4));
  assert.equal(withLength.json.headers['x-drop'], undefined, 'a field the Connection header lists is hop-by-hop');
  assert.equal(withLength.json.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
  assert.equal(withLength.json.headers['x-forwarded-host'], 'echo.test');
  assert.equal(withLength.json.headers.host, 'echo.test');

  const chunked = await send({ 'transfer-encoding': 'chunked' }, ['one,', 'two,', 'three']);
  assert.equal(chunked.json.body, 'one,two,three');
  assert.equal(chunked.json.headers['transfer-encoding'], 'chunked');
  assert.equal(chunked.json.headers['content-length'], undefined);
});

test('a large answer to a slow client streams with back-pressure and arrives whole', async (t) => {
  const size = 8 * 1024 * 1024;
  const payload = Buffer.alloc(size, 'abcdefgh');
  const up = await scriptedUpstream(t, (socket) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
    socket.write(payload);
  });
  const port = await proxyTo(t, { big: up.address });
  const received = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: 'big.test' }, agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
        // Read slowly at first, so the proxy's writes to us fill up and it must pause the upstream.
        if (n < 1024 * 1024) {
          res.pause();
          setTimeout(() => res.resume(), 2);
        }
      });
      res.on('end', () => resolve(n));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(received, size);
});
