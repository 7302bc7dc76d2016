import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rand } from '../lib/rand.ts';
import { UpstreamClosedError, UpstreamProtocolError } from './errors.ts';
import { MAX_HEAD_BYTES, ResponseParser } from './response-parser.ts';

/** What the parser reported, in order, with body bytes joined. */
interface Seen {
  heads: { status: number; headers: string[] }[];
  body: string;
  ends: boolean[];
}

function parserWithLog(): { parser: ResponseParser; seen: Seen } {
  const seen: Seen = { heads: [], body: '', ends: [] };
  const parser = new ResponseParser({
    onHead: (status, headers) => seen.heads.push({ status, headers: [...headers] }),
    onBody: (chunk) => (seen.body += chunk.toString('latin1')),
    onEnd: (reusable) => seen.ends.push(reusable),
  });
  return { parser, seen };
}

/** Feeds `raw` in pieces cut at `cuts` and, when `eof`, ends the connection. */
function parse(raw: string, method: string, cuts: number[], eof = false): Seen {
  const { parser, seen } = parserWithLog();
  parser.begin(method);
  const bytes = Buffer.from(raw, 'latin1');
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > at) parser.execute(bytes.subarray(at, c));
    at = Math.max(at, c);
  }
  if (eof) parser.end();
  return seen;
}

const CASES: { name: string; raw: string; method?: string; eof?: boolean; status: number; headers?: string[]; body: string; reusable: boolean }[] = [
  { name: 'Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello', status: 200, headers: ['Content-Length', '5', 'X-A', 'b'], body: 'hello', reusable: true },
  { name: 'empty Content-Length', raw: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', status: 200, body: '', reusable: true },
  { name: 'repeated equal Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc', status: 200, body: 'abc', reusable: true },
  {
    name: 'chunked with extensions and trailers',
    raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA \r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\n',
    status: 200,
    headers: ['Transfer-Encoding', 'chunked'],
    body: 'hello, world!!!',
    reusable: true,
  },
  {
    name: 'Transfer-Encoding wins over Content-Length, which is dropped',
    raw: 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    status: 200,
    headers: ['Transfer-Encoding', 'chunked'],
    body: 'ok',
    reusable: false,
  },
  { name: 'framed by the close', raw: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end', eof: true, status: 200, body: 'until the end', reusable: false },
  { name: 'non-chunked Transfer-Encoding reads until the close', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz', eof: true, status: 200, body: 'zzz', reusable: false },
  { name: 'HEAD: no body whatever the fields say', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', method: 'HEAD', status: 200, body: '', reusable: true },
  { name: '204 has no body', raw: 'HTTP/1.1 204 No Content\r\n\r\n', status: 204, body: '', reusable: true },
  { name: '304 has no body', raw: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', status: 304, body: '', reusable: true },
  { name: 'interim 100 and 103 answers are skipped', raw: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', status: 201, headers: ['Content-Length', '2'], body: 'ok', reusable: true },
  { name: 'Connection: close', raw: 'HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx', status: 200, body: 'x', reusable: false },
  { name: 'HTTP/1.0 without keep-alive', raw: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx', status: 200, body: 'x', reusable: false },
  { name: 'HTTP/1.0 with keep-alive', raw: 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx', status: 200, body: 'x', reusable: true },
  { name: 'bare LF line ends, no reason phrase, white space around values', raw: 'HTTP/1.1 200\nContent-Length:  2 \nX-A:\t1\n\nok', status: 200, headers: ['Content-Length', '2', 'X-A', '1'], body: 'ok', reusable: true },
];

test('answers are framed alike whole, byte by byte and cut at random places', () => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  console.log(`response-parser split seed ${seed} (replay: SEED=${seed} node --import tsx --test proxy-reloader/response-parser.test.ts)`);
  const rand = new Rand(seed);
  for (const c of CASES) {
    const n = Buffer.byteLength(c.raw, 'latin1');
    const splits = [[], Array.from({ length: n }, (_, i) => i), ...Array.from({ length: 20 }, () => Array.from({ length: rand.range(1, 6) }, () => rand.range(0, n)).sort((a, b) => a - b))];
    for (const cuts of splits) {
      const seen = parse(c.raw, c.method ?? 'GET', cuts, c.eof);
      const where = `${c.name}, cut at [${cuts.join(',')}]`;
      assert.equal(seen.heads.length, 1, where);
      assert.equal(seen.heads[0]!.status, c.status, where);
      if (c.headers) assert.deepEqual(seen.heads[0]!.headers, c.headers, where);
      assert.equal(seen.body, c.body, where);
      assert.deepEqual(seen.ends, [c.reusable], where);
    }
  }
});

test('a connection carries answer after answer, and reports the Keep-Alive timeout hint', () => {
  const { parser, seen } = parserWithLog();
  for (let i = 0; i < 3; i++) {
    parser.begin('GET');
    parser.execute(Buffer.from(`HTTP/1.1 200 OK\r\nKeep-Alive: timeout=${5 + i}, max=100\r\nContent-Length: 1\r\n\r\n${i}`));
    assert.equal(parser.keepAliveMs, (5 + i) * 1000);
  }
  assert.equal(seen.body, '012');
  assert.deepEqual(seen.ends, [true, true, true]);
});

test('bytes after a complete answer end it as not reusable and are ignored', () => {
  const seen = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n', 'GET', []);
  assert.equal(seen.body, 'ok');
  assert.deepEqual(seen.ends, [false]);
});

test('malformed answers are refused with a message that says what was wrong', () => {
  const bad: [string, RegExp][] = [
    ['HTTP/2 200 OK\r\n\r\n', /not an HTTP\/1\.x status line/],
    ['HTTP/1.1 2000 OK\r\n\r\n', /not an HTTP\/1\.x status line/],
    ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 200 OK\r\nno colon\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 200 OK\r\nX-A: a\u0001b\r\n\r\n', /forbidden character/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /conflicting Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n', /invalid Content-Length/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n', /invalid chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n', /longer than its size line/],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /switched protocols/],
    [`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`, /head is longer than/],
  ];
  for (const [raw, message] of bad) {
    for (const cuts of [[], [raw.length >> 1]]) {
      assert.throws(() => parse(raw, 'GET', cuts), (e: unknown) => e instanceof UpstreamProtocolError && message.test(e.message), `${JSON.stringify(raw.slice(0, 60))} cut at ${cuts}`);
    }
  }
});

test('bytes with no request waiting are refused', () => {
  const { parser } = parserWithLog();
  assert.throws(() => parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), /no request was waiting/);
});

test('a close before the answer ends is an error; between answers it is not', () => {
  for (const raw of ['', 'HTTP/1.1 200 OK\r\nContent-', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n']) {
    assert.throws(() => parse(raw, 'GET', [], true), UpstreamClosedError, JSON.stringify(raw));
  }
  const { parser, seen } = parserWithLog();
  parser.begin('GET');
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  parser.end();
  assert.deepEqual(seen.ends, [true]);
});

test('a handler that gives up in onHead or onBody stops the parse', () => {
  const seen: string[] = [];
  const parser: ResponseParser = new ResponseParser({
    onHead: () => seen.push('head'),
    onBody: () => {
      seen.push('body');
      parser.close();
    },
    onEnd: () => seen.push('end'),
  });
  parser.begin('GET');
  parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  parser.execute(Buffer.from('more bytes'));
  assert.deepEqual(seen, ['head', 'body']);
});
