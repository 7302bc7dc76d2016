/**
 * The replicated auth state: users, roles and the enabled flag, changed only by applying
 * AuthCommands (raft entries) so every member holds the same state at the same index. Pure:
 * no I/O, clocks or randomness. Semantics and messages follow etcd 3.4's v2auth store.
 */
import { AuthError } from './errors.ts';
import { mergeRole } from './permissions.ts';
import { GUEST_ROLE, ROOT_ROLE, ROOT_USER, type AuthCommand, type AuthResult, type Role, type StoredUser } from './types.ts';

const ROOT_ROLE_VALUE: Role = { role: ROOT_ROLE, permissions: { kv: { read: ['/*'], write: ['/*'] } } };
const DEFAULT_GUEST_ROLE: Role = { role: GUEST_ROLE, permissions: { kv: { read: ['/*'], write: ['/*'] } } };

/** The serialisable form kept in raft snapshots. */
export interface AuthSnapshot {
  enabled: boolean;
  users: StoredUser[];
  roles: Role[];
}

/** Go's reflect.DeepEqual on JSON-shaped values (null and [] differ). */
function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function withRootRole(u: StoredUser): StoredUser {
  if (u.user !== ROOT_USER || (u.roles ?? []).includes(ROOT_ROLE)) return u;
  return { ...u, roles: [...(u.roles ?? []), ROOT_ROLE] };
}

export class AuthStore {
  private enabledFlag = false;
  private readonly users = new Map<string, StoredUser>();
  private readonly roles = new Map<string, Role>();

  get enabled(): boolean {
    return this.enabledFlag;
  }

  /** The user with the root role attached to `root`, or an AuthError 404. */
  getUser(name: string): StoredUser {
    const u = this.users.get(name);
    if (!u) throw new AuthError(404, `User ${name} does not exist.`);
    return withRootRole(u);
  }

  /** The role (root is built in), or an AuthError 404. */
  getRole(name: string): Role {
    if (name === ROOT_ROLE) return ROOT_ROLE_VALUE;
    const r = this.roles.get(name);
    if (!r) throw new AuthError(404, `Role ${name} does not exist.`);
    return r;
  }

  /** Role or undefined, for permission checks. */
  findRole(name: string): Role | undefined {
    return name === ROOT_ROLE ? ROOT_ROLE_VALUE : this.roles.get(name);
  }

  /** User or undefined (root role attached), for authentication. */
  findUser(name: string): StoredUser | undefined {
    const u = this.users.get(name);
    return u ? withRootRole(u) : undefined;
  }

  userNames(): string[] {
    return [...this.users.keys()].sort();
  }

  /** Every role name, root included, sorted. */
  roleNames(): string[] {
    return [ROOT_ROLE, ...this.roles.keys()].sort();
  }

  /** Applies one committed command; throws AuthError when etcd would refuse it. */
  apply(cmd: AuthCommand): AuthResult {
    switch (cmd.op) {
      case 'auth.createUser':
        return { user: this.createUser(cmd.user, cmd.passwordHash, cmd.roles), created: true };
      case 'auth.createOrUpdateUser':
        if (this.users.has(cmd.user)) return { user: this.updateUser(cmd.user, cmd.passwordHash, [], []), created: false };
        return { user: this.createUser(cmd.user, cmd.passwordHash, null), created: true };
      case 'auth.updateUser':
        return { user: this.updateUser(cmd.user, cmd.passwordHash, cmd.grant, cmd.revoke), created: false };
      case 'auth.deleteUser':
        if (this.enabledFlag && cmd.user === ROOT_USER) throw new AuthError(403, 'Cannot delete root user while auth is enabled.');
        if (!this.users.delete(cmd.user)) throw new AuthError(404, `User ${cmd.user} does not exist`);
        return { created: false };
      case 'auth.createRole':
        return { role: this.createRole(cmd.role), created: true };
      case 'auth.updateRole':
        return { role: this.updateRole(cmd), created: false };
      case 'auth.deleteRole':
        if (cmd.role === ROOT_ROLE) throw new AuthError(403, `Cannot modify role ${cmd.role}: is root role.`);
        if (!this.roles.delete(cmd.role)) throw new AuthError(404, `Role ${cmd.role} doesn't exist.`);
        return { created: false };
      case 'auth.enable':
        if (this.enabledFlag) throw new AuthError(409, 'already enabled');
        if (!this.users.has(ROOT_USER)) throw new AuthError(409, 'No root user available, please create one');
        if (!this.roles.has(GUEST_ROLE)) this.roles.set(GUEST_ROLE, structuredClone(DEFAULT_GUEST_ROLE));
        this.enabledFlag = true;
        return { created: false };
      case 'auth.disable':
        if (!this.enabledFlag) throw new AuthError(409, 'already disabled');
        this.enabledFlag = false;
        return { created: false };
    }
  }

  private createUser(name: string, passwordHash: string | null, roles: string[] | null): StoredUser {
    if (!passwordHash) throw new AuthError(400, `Cannot create user ${name} with an empty password`);
    let user: StoredUser = { user: name, passwordHash, roles };
    if (name === ROOT_USER) user = withRootRole(user);
    if (this.users.has(name)) throw new AuthError(409, `User ${name} already exists.`);
    this.users.set(name, user);
    return user;
  }

  private updateUser(name: string, passwordHash: string | null, grant: string[], revoke: string[]): StoredUser {
    const stored = this.users.get(name);
    if (!stored) throw new AuthError(404, `User ${name} doesn't exist.`);
    const old = withRootRole(stored);
    const roles = new Set(old.roles ?? []);
    for (const g of grant) {
      if (roles.has(g)) throw new AuthError(409, `Granting duplicate role ${g} for user ${name}`);
      roles.add(g);
    }
    for (const r of revoke) {
      if (!roles.has(r)) throw new AuthError(409, `Revoking ungranted role ${r} for user ${name}`);
      roles.delete(r);
    }
    const next: StoredUser = { user: name, passwordHash: passwordHash ?? old.passwordHash, roles: [...roles].sort() };
    if (deepEqual(old, next)) throw new AuthError(400, 'User not updated. Use grant/revoke/password to update the user.');
    this.users.set(name, next);
    return next;
  }

  private createRole(role: Role): Role {
    if (role.role === ROOT_ROLE) throw new AuthError(403, `Cannot modify role ${role.role}: is root role.`);
    if (this.roles.has(role.role)) throw new AuthError(409, `Role ${role.role} already exists.`);
    this.roles.set(role.role, role);
    return role;
  }

  private updateRole(cmd: Extract<AuthCommand, { op: 'auth.updateRole' }>): Role {
    if (cmd.role === ROOT_ROLE) throw new AuthError(403, `Cannot modify role ${cmd.role}: is root role.`);
    const old = this.roles.get(cmd.role);
    if (!old) throw new AuthError(404, `Role ${cmd.role} doesn't exist.`);
    const next = mergeRole(old, cmd.grant, cmd.revoke);
    if (deepEqual(old, next)) throw new AuthError(400, 'Role not updated. Use grant/revoke to update the role.');
    this.roles.set(cmd.role, next);
    return next;
  }

  snapshot(): AuthSnapshot {
    return { enabled: this.enabledFlag, users: [...this.users.values()], roles: [...this.roles.values()] };
  }

  restore(s: AuthSnapshot | undefined): void {
    this.users.clear();
    this.roles.clear();
    this.enabledFlag = s?.enabled ?? false;
    for (const u of s?.users ?? []) this.users.set(u.user, u);
    for (const r of s?.roles ?? []) this.roles.set(r.role, r);
  }
}
