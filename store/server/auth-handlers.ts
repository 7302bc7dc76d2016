/**
 * /v2/auth: users, roles and the enable switch, answering as etcd 3.4's v2http does
 * (client_auth.go): method check, then root check, then the change through raft. Errors are
 * `{"message": "..."}` with the v2auth status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError } from '../auth/errors.ts';
import { isEmptyPermissions } from '../auth/permissions.ts';
import type { Role, StoredUser } from '../auth/types.ts';
import type { StoreNode } from '../node/types.ts';
import { BadJson, decodeRole, decodeUser, parseJsonBody } from './auth-json.ts';
import type { Authorizer } from './authorizer.ts';
import { BodyTooLarge, readBody } from './form.ts';
import { hashPassword } from './passwords.ts';
import { methodNotAllowed } from './responses.ts';

/** Go's json.Encoder output (trailing newline) with a status. */
function writeEncoded(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

/** etcd's httptypes.HTTPError: `{"message": ...}`, no trailing newline. */
export function writeAuthMessage(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ message }));
}

/** 401 "Insufficient credentials", as etcd's writeNoAuth. */
export function writeNoAuth(res: ServerResponse): void {
  writeAuthMessage(res, 401, 'Insufficient credentials');
}

function publicUser(u: StoredUser): { user: string; roles: string[] | null } {
  return { user: u.user, roles: u.roles };
}

export class AuthHandlers {
  constructor(
    private readonly node: StoreNode,
    private readonly authz: Authorizer,
    private readonly clusterId: string,
    private readonly maxBodyBytes: number,
  ) {}

  /** Routes a path under /v2/auth; false when Go's mux would 404 it. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const sub = path.slice('/v2/auth'.length);
    if (sub === '/enable') return this.run(res, () => this.enableDisable(req, res));
    for (const kind of ['roles', 'users'] as const) {
      if (sub !== `/${kind}` && !sub.startsWith(`/${kind}/`)) continue;
      const pieces = sub.replace(/\/+$/, '').split('/');
      if (pieces.length === 2) return this.run(res, () => (kind === 'roles' ? this.listRoles(req, res) : this.listUsers(req, res)));
      if (pieces.length !== 3) return this.run(res, async () => writeAuthMessage(res, 400, 'Invalid path'));
      return this.run(res, () => (kind === 'roles' ? this.forRole(req, res, pieces[2]!) : this.forUser(req, res, pieces[2]!)));
    }
    return false;
  }

  private async run(res: ServerResponse, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
    } catch (e) {
      if (res.headersSent) res.end();
      else if (e instanceof AuthError) writeAuthMessage(res, e.status, e.message);
      else if (e instanceof BadJson) writeAuthMessage(res, 400, 'Invalid JSON in request body.');
      else if (e instanceof BodyTooLarge) {
        res.setHeader('Connection', 'close');
        writeAuthMessage(res, 413, `request body is larger than --max-request-bytes (${e.limit} bytes)`);
      }
      else throw e;
    }
    return true;
  }

  /** Method, then root access; sets etcd's headers. False when already answered. */
  private async admit(req: IncomingMessage, res: ServerResponse, methods: string[], writeOnly = false): Promise<boolean> {
    if (!methods.includes(req.method ?? 'GET')) {
      methodNotAllowed(res, methods);
      return false;
    }
    if (!(await (writeOnly ? this.authz.hasWriteRootAccess(req) : this.authz.hasRootAccess(req)))) {
      writeNoAuth(res);
      return false;
    }
    res.setHeader('X-Etcd-Cluster-ID', this.clusterId);
    return true;
  }

  private async listRoles(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await this.admit(req, res, ['GET']))) return;
    writeEncoded(res, 200, { roles: this.node.auth.roleNames().map((n) => this.node.auth.getRole(n)) });
  }

  private async listUsers(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await this.admit(req, res, ['GET']))) return;
    const names = this.node.auth.userNames();
    const users = names.map((n) => {
      const u = this.node.auth.getUser(n);
      const roles = (u.roles ?? []).flatMap((r) => this.node.auth.findRole(r) ?? []);
      return roles.length > 0 ? { user: u.user, roles } : { user: u.user };
    });
    writeEncoded(res, 200, { users: users.length > 0 ? users : null });
  }

  private async forRole(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!(await this.admit(req, res, ['GET', 'PUT', 'DELETE']))) return;
    if (req.method === 'GET') return writeEncoded(res, 200, this.node.auth.getRole(name));
    if (req.method === 'DELETE') {
      await this.node.proposeAuth({ op: 'auth.deleteRole', role: name });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end();
      return;
    }
    const { role, grant, revoke } = decodeRole(parseJsonBody(await readBody(req, this.maxBodyBytes)));
    if (role.role !== name) return writeAuthMessage(res, 400, 'Role JSON name does not match the name in the URL');
    if (isEmptyPermissions(grant) && isEmptyPermissions(revoke)) {
      const r = await this.node.proposeAuth({ op: 'auth.createRole', role });
      return writeEncoded(res, 201, r.role as Role);
    }
    if (!isEmptyPermissions(role.permissions)) return writeAuthMessage(res, 400, 'Role JSON contains both permissions and grant/revoke');
    const r = await this.node.proposeAuth({ op: 'auth.updateRole', role: name, grant, revoke });
    writeEncoded(res, 200, r.role as Role);
  }

  private async forUser(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (!(await this.admit(req, res, ['GET', 'PUT', 'DELETE']))) return;
    if (req.method === 'GET') {
      const u = this.node.auth.getUser(name);
      const roles = (u.roles ?? []).map((r) => this.node.auth.getRole(r));
      return writeEncoded(res, 200, roles.length > 0 ? { user: u.user, roles } : { user: u.user });
    }
    if (req.method === 'DELETE') {
      await this.node.proposeAuth({ op: 'auth.deleteUser', user: name });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end();
      return;
    }
    const u = decodeUser(parseJsonBody(await readBody(req, this.maxBodyBytes)));
    if (u.user !== name) return writeAuthMessage(res, 400, 'User JSON name does not match the name in the URL');
    const passwordHash = u.password === '' ? null : await hashPassword(u.password);
    const grant = u.grant ?? [];
    const revoke = u.revoke ?? [];
    if (grant.length === 0 && revoke.length === 0) {
      const r = (u.roles ?? []).length > 0
        ? { ...(await this.node.proposeAuth({ op: 'auth.createUser', user: name, passwordHash, roles: u.roles })), created: false }
        : await this.node.proposeAuth({ op: 'auth.createOrUpdateUser', user: name, passwordHash });
      return writeEncoded(res, r.created ? 201 : 200, publicUser(r.user!));
    }
    if ((u.roles ?? []).length > 0) return writeAuthMessage(res, 400, 'User JSON contains both roles and grant/revoke');
    const r = await this.node.proposeAuth({ op: 'auth.updateUser', user: name, passwordHash, grant, revoke });
    writeEncoded(res, 200, publicUser(r.user!));
  }

  private async enableDisable(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(await this.admit(req, res, ['GET', 'PUT', 'DELETE'], true))) return;
    if (req.method === 'GET') return writeEncoded(res, 200, { enabled: this.node.auth.enabled });
    await this.node.proposeAuth({ op: req.method === 'PUT' ? 'auth.enable' : 'auth.disable' });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end();
  }
}
