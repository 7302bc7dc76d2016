/**
 * Decoding /v2/auth request bodies as Go's encoding/json decodes them into etcd's structs:
 * field names match case-insensitively, unknown fields are ignored, `null` leaves the zero
 * value, and a wrong type fails the whole body.
 */
import type { Permissions, Role, RWPermission } from '../auth/types.ts';

export class BadJson extends Error {}

function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function asObject(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadJson('not an object');
  return v as Record<string, unknown>;
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') throw new BadJson('not a string');
  return v;
}

function strList(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  if (!Array.isArray(v)) throw new BadJson('not a list');
  return v.map((x) => {
    if (typeof x !== 'string') throw new BadJson('not a string');
    return x;
  });
}

/** Go's Decoder reads the first JSON value of the body; an empty body is an error (EOF). */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  if (text === '') throw new BadJson('empty body');
  try {
    return JSON.parse(text);
  } catch {
    throw new BadJson('invalid JSON');
  }
}

/** etcd's v2auth.User as a request carries it. */
export interface UserRequest {
  user: string;
  password: string;
  roles: string[] | null;
  grant: string[] | null;
  revoke: string[] | null;
}

export function decodeUser(v: unknown): UserRequest {
  const o = asObject(v) ?? {};
  return { user: str(field(o, 'user')), password: str(field(o, 'password')), roles: strList(field(o, 'roles')), grant: strList(field(o, 'grant')), revoke: strList(field(o, 'revoke')) };
}

function decodeRW(v: unknown): RWPermission {
  const o = asObject(v) ?? {};
  return { read: strList(field(o, 'read')), write: strList(field(o, 'write')) };
}

function decodePermissions(v: unknown): Permissions | null {
  const o = asObject(v);
  if (!o) return null;
  return { kv: decodeRW(field(o, 'kv')) };
}

/** etcd's v2auth.Role as a request carries it (grant and revoke are pointers: null when absent). */
export function decodeRole(v: unknown): { role: Role; grant: Permissions | null; revoke: Permissions | null } {
  const o = asObject(v) ?? {};
  const grant = decodePermissions(field(o, 'grant'));
  const revoke = decodePermissions(field(o, 'revoke'));
  const role: Role = { role: str(field(o, 'role')), permissions: decodePermissions(field(o, 'permissions')) ?? { kv: { read: null, write: null } } };
  if (grant) role.grant = grant;
  if (revoke) role.revoke = revoke;
  return { role, grant, revoke };
}
