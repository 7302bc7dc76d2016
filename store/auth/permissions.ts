/**
 * Key-pattern permissions as etcd 3.4's v2auth checks them: a pattern ending in `*` matches
 * every key that starts with the rest; any other pattern matches only itself. A recursive
 * request (recursive=true) needs a `*` pattern covering the whole subtree.
 */
import { AuthError } from './errors.ts';
import { ROOT_ROLE, type Permissions, type Role, type RWPermission } from './types.ts';

function simpleMatch(pattern: string, key: string): boolean {
  // etcd indexes pattern[len-1] and would panic on an empty pattern; berth just never matches.
  if (pattern === '') return false;
  if (pattern.endsWith('*')) return key.startsWith(pattern.slice(0, -1));
  return key === pattern;
}

function prefixMatch(pattern: string, key: string): boolean {
  if (pattern === '' || !pattern.endsWith('*')) return false;
  return key.startsWith(pattern.slice(0, -1));
}

/** May `role` read (write = false) or write the single key `key`? */
export function hasKeyAccess(role: Role, key: string, write: boolean): boolean {
  if (role.role === ROOT_ROLE) return true;
  const list = (write ? role.permissions.kv.write : role.permissions.kv.read) ?? [];
  return list.some((p) => simpleMatch(p, key));
}

/** May `role` read or write everything under `key` (a recursive request)? */
export function hasRecursiveAccess(role: Role, key: string, write: boolean): boolean {
  if (role.role === ROOT_ROLE) return true;
  const list = (write ? role.permissions.kv.write : role.permissions.kv.read) ?? [];
  return list.some((p) => prefixMatch(p, key));
}

const sorted = (s: Set<string>): string[] => [...s].sort();

/** Adds `n`'s patterns; granting one already held is a 409, as in etcd. */
function grantRW(rw: RWPermission, n: RWPermission): RWPermission {
  const read = new Set(rw.read ?? []);
  for (const r of n.read ?? []) {
    if (read.has(r)) throw new AuthError(409, `Granting duplicate read permission ${r}`);
    read.add(r);
  }
  const write = new Set(rw.write ?? []);
  for (const w of n.write ?? []) {
    if (write.has(w)) throw new AuthError(409, `Granting duplicate write permission ${w}`);
    write.add(w);
  }
  return { read: sorted(read), write: sorted(write) };
}

/** Removes `n`'s patterns; revoking one not held is ignored, as in etcd. */
function revokeRW(rw: RWPermission, n: RWPermission): RWPermission {
  const read = new Set(rw.read ?? []);
  for (const r of n.read ?? []) read.delete(r);
  const write = new Set(rw.write ?? []);
  for (const w of n.write ?? []) write.delete(w);
  return { read: sorted(read), write: sorted(write) };
}

/** etcd's Role.merge: grant, then revoke; a missing grant or revoke leaves the lists untouched. */
export function mergeRole(old: Role, grant: Permissions | null, revoke: Permissions | null): Role {
  let perms = old.permissions;
  if (grant) perms = { kv: grantRW(perms.kv, grant.kv) };
  if (revoke) perms = { kv: revokeRW(perms.kv, revoke.kv) };
  return { role: old.role, permissions: perms };
}

/** etcd's Permissions.IsEmpty: absent, or no read and no write patterns. */
export function isEmptyPermissions(p: Permissions | null | undefined): boolean {
  return !p || ((p.kv.read ?? []).length === 0 && (p.kv.write ?? []).length === 0);
}
