/**
 * The v2 auth data model, shaped exactly like etcd 3.4's v2auth JSON so responses can be
 * encoded as they are. `null` lists are kept distinct from empty ones on purpose: etcd's
 * answers (and its "not updated" checks) tell them apart.
 */

/** Read and write key patterns; a pattern ending in `*` matches every key with that prefix. */
export interface RWPermission {
  read: string[] | null;
  write: string[] | null;
}

export interface Permissions {
  kv: RWPermission;
}

/** A role as etcd stores and prints it. */
export interface Role {
  role: string;
  permissions: Permissions;
  grant?: Permissions;
  revoke?: Permissions;
}

/** A user as stored: the password is a bcrypt hash, never the password itself. */
export interface StoredUser {
  user: string;
  passwordHash: string;
  roles: string[] | null;
}

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';
export const GUEST_ROLE = 'guest';

/**
 * Auth writes as raft entries. Passwords arrive already hashed (hashing is slow and salted,
 * so the proposer does it once); everything else — existence checks, grant/revoke merges —
 * happens when the entry is applied, so every member reaches the same state.
 */
export type AuthCommand =
  | { op: 'auth.createUser'; user: string; passwordHash: string | null; roles: string[] | null }
  | { op: 'auth.createOrUpdateUser'; user: string; passwordHash: string | null }
  | { op: 'auth.updateUser'; user: string; passwordHash: string | null; grant: string[]; revoke: string[] }
  | { op: 'auth.deleteUser'; user: string }
  | { op: 'auth.createRole'; role: Role }
  | { op: 'auth.updateRole'; role: string; grant: Permissions | null; revoke: Permissions | null }
  | { op: 'auth.deleteRole'; role: string }
  | { op: 'auth.enable' }
  | { op: 'auth.disable' };

/** What applying an auth command yields: the user or role as it now is, and whether it was created. */
export interface AuthResult {
  user?: StoredUser;
  role?: Role;
  created: boolean;
}

/** True for commands the auth store (not the keyspace) applies. */
export function isAuthCommand(cmd: { op: string }): cmd is AuthCommand {
  return cmd.op.startsWith('auth.');
}
