import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRequestHead, type HeadResult } from './request-head.ts';

const MAX = 1024;
const read = (text: string): HeadResult => readRequestHead(Buffer.from(text, 'latin1'), MAX);
const kind = (text: string) => read(text).kind;

test('a complete head gives its method, target, framing and the fields the answer needs', () => {
  const text = 'PUT /v2/keys/a%20b?ttl=5 HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\nAuthorization: Basic dTpw\r\n\r\nvalue=1';
  const r = read(text);
  assert.equal(r.kind, 'head');
  if (r.kind !== 'head') return;
  assert.deepEqual(r.head, {
    method: 'PUT',
    target: '/v2/keys/a%20b?ttl=5',
    length: text.length - 'value=1'.length,
    contentLength: 7,
    keepAlive: true,
    contentType: 'application/x-www-form-urlencoded',
    authorization: 'Basic dTpw',
  });
  const close = read('GET / HTTP/1.1\r\nhost: x\r\nConnection: TE, Close\r\n\r\n');
  assert.equal(close.kind === 'head' && close.head.keepAlive, false);
  const noBody = read('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(noBody.kind === 'head' && noBody.head.contentLength, 0);
});

test('a head that has not fully arrived is incomplete until it passes the size limit', () => {
  assert.equal(kind(''), 'incomplete');
  assert.equal(kind('GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n'), 'incomplete');
  assert.equal(kind('GET /v2/keys/a HTTP/1.1\r\nHost: x\r\n\r'), 'incomplete');
  assert.equal(kind('GET /v2/keys/a HTTP/1.1\r\nHost: x\r\nX-Half: y'), 'incomplete');
  // A line node:http would refuse at once is deferred at once, not waited on.
  assert.equal(kind('GET /v2/keys/a HTTP/1.0\r\n'), 'defer');
  assert.equal(kind('GET /v2/keys/a HTTP/1.1\r\nno colon here\r\nHost'), 'defer');
  assert.equal(kind(`GET /v2/keys/a HTTP/1.1\r\nX-Big: ${'h'.repeat(MAX)}`), 'defer');
  assert.equal(kind(`GET /v2/keys/a HTTP/1.1\r\nX-Big: ${'h'.repeat(MAX)}\r\n\r\n`), 'defer');
});

test('whatever node:http should read itself is deferred', () => {
  const h = 'Host: x\r\n';
  const cases: [string, string][] = [
    ['chunked body', `PUT /a HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n`],
    ['expect', `PUT /a HTTP/1.1\r\n${h}Expect: 100-continue\r\nContent-Length: 3\r\n\r\n`],
    ['upgrade field', `GET /a HTTP/1.1\r\n${h}Upgrade: websocket\r\n\r\n`],
    ['upgrade token', `GET /a HTTP/1.1\r\n${h}Connection: Upgrade\r\n\r\n`],
    ['HTTP/1.0', `GET /a HTTP/1.0\r\n${h}\r\n`],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['absolute-form target', `GET http://x/a HTTP/1.1\r\n${h}\r\n`],
    ['lower-case method', `get /a HTTP/1.1\r\n${h}\r\n`],
    ['two spaces', `GET  /a HTTP/1.1\r\n${h}\r\n`],
    ['no Host', 'GET /a HTTP/1.1\r\n\r\n'],
    ['two Hosts', `GET /a HTTP/1.1\r\n${h}${h}\r\n`],
    ['two lengths', `PUT /a HTTP/1.1\r\n${h}Content-Length: 1\r\nContent-Length: 1\r\n\r\n`],
    ['signed length', `PUT /a HTTP/1.1\r\n${h}Content-Length: +1\r\n\r\n`],
    ['huge length', `PUT /a HTTP/1.1\r\n${h}Content-Length: 99999999999999999999\r\n\r\n`],
    ['two content types', `PUT /a HTTP/1.1\r\n${h}Content-Type: a\r\nContent-Type: b\r\n\r\n`],
    ['two authorizations', `GET /a HTTP/1.1\r\n${h}Authorization: a\r\nAuthorization: b\r\n\r\n`],
    ['space before colon', `GET /a HTTP/1.1\r\n${h}X-A : 1\r\n\r\n`],
    ['folded line', `GET /a HTTP/1.1\r\n${h}X-A: 1\r\n  more: 2\r\n\r\n`],
    ['no colon', `GET /a HTTP/1.1\r\n${h}garbage\r\n\r\n`],
    ['control byte in a value', `GET /a HTTP/1.1\r\n${h}X-A: a\x01b\r\n\r\n`],
    ['bare line feed', `GET /a HTTP/1.1\n${h}\r\n`],
    ['bare line feed, incomplete', `GET /a HTTP/1.1\nHost: x`],
    ['leading empty line', `\r\nGET /a HTTP/1.1\r\n${h}\r\n`],
  ];
  for (const [name, text] of cases) assert.equal(kind(text), 'defer', name);
});
