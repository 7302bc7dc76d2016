import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from '../../../lib/testing/store-cluster.ts';

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** One client connection that sends raw bytes and reads whole answers in order (Content-Length or chunked). */
class RawConnection {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    this.socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    this.socket.on('error', () => {});
  }

  send(text: string): void {
    this.socket.write(text);
  }

  private async until(check: () => number): Promise<number> {
    for (;;) {
      const at = check();
      if (at >= 0) return at;
      if (this.ended) throw new Error(`the connection closed; unread: ${JSON.stringify(this.buf.toString())}`);
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** The next answer; a HEAD answer has no body whatever its Content-Length says. */
  async next(head = false): Promise<RawAnswer> {
    const end = await this.until(() => this.buf.indexOf('\r\n\r\n'));
    const text = this.buf.toString('latin1', 0, end);
    this.buf = this.buf.subarray(end + 4);
    const status = Number(text.slice(9, 12));
    let body = '';
    if (/\r\ntransfer-encoding: chunked/i.test(text)) {
      for (;;) {
        const lineEnd = await this.until(() => this.buf.indexOf('\r\n'));
        const size = parseInt(this.buf.toString('latin1', 0, lineEnd), 16);
        await this.until(() => (this.buf.length >= lineEnd + 2 + size + 2 ? 0 : -1));
        body += this.buf.toString('utf8', lineEnd + 2, lineEnd + 2 + size);
        this.buf = this.buf.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else if (!head) {
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text)?.[1] ?? 0);
      await this.until(() => (this.buf.length >= length ? 0 : -1));
      body = this.buf.toString('utf8', 0, length);
      this.buf = this.buf.subarray(length);
    }
    return { status, head: text, body };
  }

  close(): void {
    this.socket.destroy();
  }
}

const form = (method: string, path: string, body: string, extra = '') =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\n${extra}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const bare = (method: string, path: string, extra = '') => `${method} ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

/** Requests with every kind of /v2/keys answer: created, replaced, read, listed, each error, HEAD, a closing one last. */
const SEQUENCE: { request: string; head?: boolean; ttl?: boolean }[] = [
  { request: form('PUT', '/v2/keys/dir/a', 'value=1') },
  { request: form('PUT', '/v2/keys/dir/a', 'value=2&ttl=100') },
  { request: form('PUT', '/v2/keys/dir/b%20c', 'value=%C3%A9') },
  { request: bare('GET', '/v2/keys/dir/b%20c') },
  { request: bare('GET', '/v2/keys/dir?recursive=true&sorted=true') },
  // Its body would carry a ttl, so its length too may tick down between the two members.
  { request: bare('HEAD', '/v2/keys/dir/a'), head: true, ttl: true },
  { request: bare('GET', '/v2/keys/missing') },
  { request: form('PUT', '/v2/keys/dir/a', 'value=3&ttl=soon') },
  { request: form('PUT', '/v2/keys/dir/a?prevValue=9', 'value=3') },
  { request: form('PUT', '/v2/keys/dir/a?prevExist=false', 'value=3') },
  { request: form('PUT', '/v2/keys/dir/a', 'value=4&prevIndex=1&noValueOnSuccess=true') },
  { request: form('PUT', '/v2/keys/dir/a', 'value=5&noValueOnSuccess=true') },
  { request: form('PUT', '/v2/keys/dir/a?recursive=maybe', 'value=5') },
  { request: form('POST', '/v2/keys/queue', 'value=job') },
  { request: form('PUT', '/v2/keys/plain', '{"value":"json"}').replace('application/x-www-form-urlencoded', 'application/json') },
  { request: form('PUT', '/v2/keys/d2', 'dir=true') },
  { request: bare('DELETE', '/v2/keys/d2') },
  { request: bare('DELETE', '/v2/keys/d2?dir=true') },
  { request: bare('DELETE', '/v2/keys/dir?recursive=true') },
  { request: bare('GET', `/v2/keys/${'k'.repeat(9000)}`) },
  { request: bare('GET', '/v2/keys/dir/a', 'Connection: close\r\n') },
];

/**
 * What may differ between two members: the times (a ttl of 99 or 100 changes the length too, so
 * a length is not compared where a ttl is or would be in the body), and the cluster ID.
 */
const normalize = (a: RawAnswer, ttl = false) => ({
  status: a.status,
  head: a.head
    .replace(/\r\nDate: [^\r]*/, '\r\nDate: -')
    .replace(/\r\nX-Etcd-Cluster-ID: [0-9a-f]+/, '')
    .replace(/\r\nContent-Length: \d+/, ttl || a.body.includes('"ttl":') ? '\r\nContent-Length: -' : '$&'),
  body: a.body.replace(/"expiration":"[^"]*","ttl":\d+/g, '"expiration":"","ttl":0'),
});

/** Connections the member handed to node:http so far, counting the one this read opens. */
async function handOffs(url: string): Promise<number> {
  const c = new RawConnection(Number(new URL(url).port));
  c.send(bare('GET', '/metrics', 'Connection: close\r\n'));
  const text = (await c.next()).body;
  c.close();
  return Number(/^berth_http_fast_path_handoffs_total (\d+)$/m.exec(text)?.[1] ?? NaN);
}

test('the fast path answers every kind of /v2/keys request byte for byte as node:http does', { timeout: 60_000 }, async (t) => {
  const [fast, slow] = await Promise.all([startCluster('berth', 1), startCluster('berth', 1)]);
  t.after(() => Promise.all([fast.stop(), slow.stop()]));
  const fastUrl = fast.clientUrls[0]!;
  const before = await handOffs(fastUrl);

  const onFast = new RawConnection(Number(new URL(fastUrl).port));
  const onNode = new RawConnection(Number(new URL(slow.clientUrls[0]!).port));
  t.after(() => [onFast, onNode].forEach((c) => c.close()));
  // Any request the fast path does not read moves its connection to node:http for good.
  onNode.send(bare('GET', '/version'));
  assert.equal((await onNode.next()).status, 200);

  for (const { request, head, ttl } of SEQUENCE) {
    onFast.send(request);
    onNode.send(request);
    const [a, b] = await Promise.all([onFast.next(head), onNode.next(head)]);
    assert.deepEqual(normalize(a, ttl), normalize(b, ttl), request.split('\r\n')[0]);
  }
  // Only the two /metrics reads went to node:http: every request above was the fast path's.
  assert.equal((await handOffs(fastUrl)) - before, 1);
});

test('a watch moves its connection to node:http with the pipelined requests behind it, in order', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const port = Number(new URL(cluster.clientUrls[0]!).port);
  const c = new RawConnection(port);
  t.after(() => c.close());
  c.send(form('PUT', '/v2/keys/w', 'value=1') + bare('GET', '/v2/keys/w?wait=true&waitIndex=1') + bare('GET', '/v2/keys/w') + form('PUT', '/v2/keys/w', 'value=2', 'Connection: close\r\n'));
  const put = await c.next();
  assert.equal(put.status, 201);
  const watched = await c.next();
  assert.equal(watched.status, 200);
  assert.equal(JSON.parse(watched.body).node.value, '1');
  assert.equal(JSON.parse((await c.next()).body).node.value, '1');
  const last = await c.next();
  assert.equal(JSON.parse(last.body).node.value, '2');
  assert.match(last.head, /\r\nConnection: close/);
});

test('requests split across packets, and hundreds pipelined in one write, are answered in order', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const url = cluster.clientUrls[0]!;
  const port = Number(new URL(url).port);
  const before = await handOffs(url);

  const c = new RawConnection(port);
  t.after(() => c.close());
  const request = form('PUT', '/v2/keys/split', `value=${'v'.repeat(5000)}`);
  for (const cut of [3, 20, 60, request.indexOf('\r\n\r\n') + 2, request.indexOf('\r\n\r\n') + 4, request.length - 1000]) {
    c.send(request.slice(0, cut));
    await sleep(30);
    c.send(request.slice(cut));
    const a = await c.next();
    assert.ok(a.status === 201 || a.status === 200, `cut at ${cut}: ${a.status}`);
    assert.equal(JSON.parse(a.body).node.value.length, 5000);
  }

  // 400 writes and reads pipelined in one write: each read sees the write before it.
  let batch = '';
  for (let i = 0; i < 200; i++) batch += form('PUT', `/v2/keys/p/${i}`, `value=${i}`) + bare('GET', `/v2/keys/p/${i}`);
  c.send(batch);
  for (let i = 0; i < 200; i++) {
    assert.equal((await c.next()).status, 201);
    const read = await c.next();
    assert.equal(JSON.parse(read.body).node.value, String(i));
  }
  assert.equal((await handOffs(url)) - before, 1, 'a connection went to node:http');
});

test('a request cut short by the client, or never finished, is refused as node:http refuses it', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const port = Number(new URL(cluster.clientUrls[0]!).port);
  for (const partial of ['GET /v2/keys/a HTT', 'GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n', form('PUT', '/v2/keys/a', 'value=123').slice(0, -3)]) {
    const c = new RawConnection(port);
    c.socket.end(partial);
    const a = await c.next();
    assert.equal(a.head, 'HTTP/1.1 400 Bad Request\r\nConnection: close', JSON.stringify(partial));
    c.close();
  }
});

test('a member stops at once with idle and busy fast-path connections open', { timeout: 60_000 }, async (t) => {
  const cluster = await startCluster('berth', 1);
  t.after(() => cluster.stop());
  const port = Number(new URL(cluster.clientUrls[0]!).port);
  const idle = new RawConnection(port);
  idle.send(bare('GET', '/v2/keys/'));
  assert.equal((await idle.next()).status, 200);
  const partial = new RawConnection(port);
  partial.send('GET /v2/keys/ HTT');
  t.after(() => [idle, partial].forEach((c) => c.close()));
  const started = Date.now();
  const code = await cluster.members[0]!.process.stop();
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 3000, `stopping took ${Date.now() - started} ms`);
});
