import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_ROLE, GUEST_ROLE, type Role } from '../../auth/types.ts';
import type { StoreNode } from '../../node/types.ts';
import type { Authorizer } from '../authorizer.ts';

/** What /dashboard/api/session tells the page about the credentials it sent. */
export interface DashboardSession {
  authEnabled: boolean;
  /** null: no user named, the guest role applies. */
  user: string | null;
  roles: string[];
  root: boolean;
  /** Key patterns the user may read (etcd's: a trailing `*` covers a prefix). */
  read: string[];
  write: string[];
}

function collect(roles: (Role | undefined)[], pick: (r: Role) => string[] | null): string[] {
  return [...new Set(roles.flatMap((r) => (r ? (pick(r) ?? []) : [])))].sort();
}

/**
 * Checks the credentials the page holds without touching a key: etcd answers a wrong password
 * and a valid user without permission with the same 401, and only this lets the page tell
 * "ask again" from "no read permission". It reveals only the caller's own roles and patterns,
 * and a wrong password learns nothing but "wrong".
 */
export async function answerSession(req: IncomingMessage, res: ServerResponse, node: StoreNode, authz: Authorizer | undefined): Promise<void> {
  const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  if (!authz || !authz.enabled) {
    return void json(200, { authEnabled: false, user: null, roles: [], root: true, read: ['/*'], write: ['/*'] } satisfies DashboardSession);
  }
  let user: Awaited<ReturnType<Authorizer['identify']>>;
  try {
    user = await authz.identify(req);
  } catch {
    return void json(500, { message: 'could not check the credentials' }); // a rejection here would end the member
  }
  if (user === 'invalid') return void json(401, { message: 'wrong user name or password' });
  const roleNames = user ? (user.roles ?? []) : [GUEST_ROLE];
  const roles = roleNames.map((n) => node.auth.findRole(n));
  const root = roleNames.includes(ROOT_ROLE);
  json(200, {
    authEnabled: true,
    user: user?.user ?? null,
    roles: roleNames,
    root,
    read: root ? ['/*'] : collect(roles, (r) => r.permissions.kv.read),
    write: root ? ['/*'] : collect(roles, (r) => r.permissions.kv.write),
  } satisfies DashboardSession);
}
