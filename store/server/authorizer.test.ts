import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBasicAuth } from './authorizer.ts';
import { BadJson, decodeRole, decodeUser, parseJsonBody } from './auth-json.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('Basic auth parses as Go does: first colon splits, malformed is no credentials', () => {
  assert.deepEqual(parseBasicAuth(`Basic ${b64('root:pa:ss')}`), { username: 'root', password: 'pa:ss' });
  assert.deepEqual(parseBasicAuth(`basic ${b64('u:')}`), { username: 'u', password: '' });
  assert.deepEqual(parseBasicAuth(`Basic ${b64('ünï:pw')}`), { username: 'ünï', password: 'pw' });
  for (const bad of [undefined, '', 'Basic', 'Basic !!!', `Bearer ${b64('u:p')}`, `Basic ${b64('no-colon')}`, 'Basic cm9vdA']) assert.equal(parseBasicAuth(bad), null, String(bad));
});

test('auth bodies decode like Go encoding/json into etcd structs', () => {
  assert.deepEqual(decodeUser(parseJsonBody(Buffer.from('{"USER":"a","Password":"p","roles":null,"x":1}'))), { user: 'a', password: 'p', roles: null, grant: null, revoke: null });
  assert.deepEqual(decodeUser(parseJsonBody(Buffer.from('null'))).user, '');
  assert.throws(() => decodeUser(parseJsonBody(Buffer.from('{"user":5}'))), BadJson);
  assert.throws(() => decodeUser(parseJsonBody(Buffer.from('{"roles":["a",1]}'))), BadJson);
  assert.throws(() => parseJsonBody(Buffer.from('')), BadJson);
  const r = decodeRole(parseJsonBody(Buffer.from('{"role":"r","grant":{"kv":{"read":["/a/*"]}}}')));
  assert.deepEqual(r.role.permissions, { kv: { read: null, write: null } });
  assert.deepEqual(r.grant, { kv: { read: ['/a/*'], write: null } });
  assert.equal(r.revoke, null);
});
