import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { LoadConnection } from './load-connection.ts';
import { runLoad } from './load.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
  socket: number;
}

/** A server on a free loopback port that records each request and answers with `answer`. */
async function serve(t: TestContext, answer: (req: IncomingMessage, res: ServerResponse, seen: Seen) => void): Promise<{ url: URL; seen: Seen[] }> {
  const seen: Seen[] = [];
  let sockets = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString(), socket: (req.socket as { n?: number }).n! };
      seen.push(s);
      answer(req, res, s);
    });
  });
  server.on('connection', (s) => ((s as { n?: number }).n = ++sockets));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), seen };
}

test('requests go out whole on one keep-alive connection, and each answer gives its status', async (t) => {
  const { url, seen } = await serve(t, (req, res) => {
    res.statusCode = req.method === 'PUT' ? 201 : 404;
    res.end('{"action":"set"}');
  });
  const c = new LoadConnection(url);
  t.after(() => c.close());
  assert.equal(await c.request('PUT', '/v2/keys/a%20b?x=1', 'value=%E2%9C%93'), 201);
  assert.equal(await c.request('GET', '/v2/keys/missing'), 404);
  assert.deepEqual(seen.map(({ method, url: path, contentType, body, socket }) => [method, path, contentType, body, socket]), [
    ['PUT', '/v2/keys/a%20b?x=1', 'application/x-www-form-urlencoded', 'value=%E2%9C%93', 1],
    ['GET', '/v2/keys/missing', undefined, '', 1],
  ]);
});

test('a chunked answer is read to its end and the connection carries the next request', async (t) => {
  const { url, seen } = await serve(t, (_req, res) => {
    res.write('{"a":');
    setTimeout(() => res.end('1}'), 5);
  });
  const c = new LoadConnection(url);
  t.after(() => c.close());
  for (let i = 0; i < 3; i++) assert.equal(await c.request('GET', `/${i}`), 200);
  assert.deepEqual(seen.map((s) => s.socket), [1, 1, 1]);
});

test('after an answer with Connection: close the next request opens a new connection', async (t) => {
  const { url, seen } = await serve(t, (_req, res) => {
    res.setHeader('Connection', 'close');
    res.end('bye');
  });
  const c = new LoadConnection(url);
  t.after(() => c.close());
  assert.equal(await c.request('GET', '/1'), 200);
  assert.equal(await c.request('GET', '/2'), 200);
  assert.deepEqual(seen.map((s) => s.socket), [1, 2]);
});

test('a connection cut in the middle of an answer fails that request, and the next one reconnects', async (t) => {
  const { url } = await serve(t, (req, res) => {
    if (req.url === '/cut') {
      res.writeHead(200, { 'Content-Length': 100 });
      res.write('only part');
      setTimeout(() => res.socket?.destroy(), 5);
    } else {
      res.end('ok');
    }
  });
  const c = new LoadConnection(url);
  t.after(() => c.close());
  await assert.rejects(c.request('GET', '/cut'), /closed/);
  assert.equal(await c.request('GET', '/fine'), 200);
});

test('runLoad counts only 2xx answers as done, and names the first failure', async (t) => {
  const { url, seen } = await serve(t, (req, res) => {
    res.statusCode = req.url!.endsWith('/bad') ? 500 : 200;
    res.end();
  });
  let n = 0;
  const r = await runLoad({
    urls: [url.href],
    connections: 4,
    durationMs: 300,
    seed: 7,
    next: () => ({ method: 'GET', path: n++ % 4 === 3 ? '/k/bad' : '/k/good' }),
  });
  assert.ok(r.requests > 0 && r.errors > 0, `requests ${r.requests}, errors ${r.errors}`);
  assert.equal(r.requests + r.errors, seen.length);
  assert.match(r.firstError ?? '', /HTTP 500 for GET \/k\/bad/);
  assert.equal(new Set(seen.map((s) => s.socket)).size, 4, 'one keep-alive connection per loop');
});
