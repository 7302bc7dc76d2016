import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthStore } from './auth-store.ts';
import { AuthError } from './errors.ts';
import { hasKeyAccess, hasRecursiveAccess } from './permissions.ts';
import type { Role } from './types.ts';

const role = (read: string[], write: string[] = []): Role => ({ role: 'r', permissions: { kv: { read, write } } });

function authError(fn: () => unknown, status: number, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof AuthError && e.status === status && message.test(e.message));
}

test('key patterns: exact, trailing *, recursive needs *', () => {
  assert.equal(hasKeyAccess(role(['/a']), '/a', false), true);
  assert.equal(hasKeyAccess(role(['/a']), '/a/b', false), false);
  assert.equal(hasKeyAccess(role(['/a/*']), '/a/b/c', false), true);
  assert.equal(hasKeyAccess(role(['/a/*']), '/a', false), false);
  assert.equal(hasKeyAccess(role(['/a*']), '/abc', false), true);
  assert.equal(hasKeyAccess(role(['/a/*']), '/a/b', true), false, 'read does not grant write');
  assert.equal(hasKeyAccess(role([''], ['']), '', false), false, 'an empty pattern matches nothing');
  assert.equal(hasRecursiveAccess(role(['/a']), '/a', false), false);
  assert.equal(hasRecursiveAccess(role(['/a/*']), '/a/', false), true);
  assert.equal(hasKeyAccess({ role: 'root', permissions: { kv: { read: null, write: null } } }, '/x', true), true);
});

test('users and roles follow etcd: create, merge, conflicts, root and guest', () => {
  const s = new AuthStore();
  authError(() => s.apply({ op: 'auth.enable' }), 409, /No root user/);
  s.apply({ op: 'auth.createUser', user: 'root', passwordHash: 'h', roles: null });
  assert.deepEqual(s.getUser('root').roles, ['root']);
  authError(() => s.apply({ op: 'auth.createUser', user: 'root', passwordHash: 'h', roles: null }), 409, /already exists/);
  authError(() => s.apply({ op: 'auth.createUser', user: 'x', passwordHash: null, roles: null }), 400, /empty password/);
  s.apply({ op: 'auth.createRole', role: { role: 'r1', permissions: { kv: { read: null, write: null } } } });
  const r = s.apply({ op: 'auth.updateRole', role: 'r1', grant: { kv: { read: ['/b', '/a'], write: null } }, revoke: null }).role!;
  assert.deepEqual(r.permissions.kv, { read: ['/a', '/b'], write: [] });
  authError(() => s.apply({ op: 'auth.updateRole', role: 'r1', grant: { kv: { read: ['/a'], write: null } }, revoke: null }), 409, /duplicate read/);
  authError(() => s.apply({ op: 'auth.updateRole', role: 'r1', grant: null, revoke: { kv: { read: ['/zzz'], write: null } } }), 400, /not updated/);
  authError(() => s.apply({ op: 'auth.deleteRole', role: 'root' }), 403, /root role/);
  s.apply({ op: 'auth.createOrUpdateUser', user: 'u', passwordHash: 'h1' });
  s.apply({ op: 'auth.updateUser', user: 'u', passwordHash: null, grant: ['r1'], revoke: [] });
  authError(() => s.apply({ op: 'auth.updateUser', user: 'u', passwordHash: null, grant: [], revoke: ['nope'] }), 409, /ungranted/);
  s.apply({ op: 'auth.enable' });
  assert.equal(s.enabled, true);
  assert.deepEqual(s.getRole('guest').permissions.kv, { read: ['/*'], write: ['/*'] });
  authError(() => s.apply({ op: 'auth.deleteUser', user: 'root' }), 403, /while auth is enabled/);

  // A snapshot carries everything: a restored store answers the same.
  const copy = new AuthStore();
  copy.restore(structuredClone(s.snapshot()));
  assert.deepEqual(copy.snapshot(), s.snapshot());
  assert.equal(copy.enabled, true);
  assert.deepEqual(copy.getUser('u').roles, ['r1']);
});
