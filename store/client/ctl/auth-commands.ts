/**
 * `berth ctl user|role|auth ...`: etcdctl (v2)'s auth commands over /v2/auth, with its
 * output, messages and exit codes (0 ok, 1 on any error, the message on stderr).
 *
 *   berth ctl user add root:secret          berth ctl role add reader
 *   berth ctl role grant reader --path '/app/*' --read
 *   berth ctl user grant alice --roles reader
 *   berth ctl -u root:secret auth enable
 */
import { parseConfig, type FlagSpec } from '../../../lib/config.ts';
import { endpointUrl } from '../http-backend.ts';
import { PlainRequestError, clusterErrorReport, plainRequest, readStdinLine, type FetchInit } from './request.ts';

/** The top-level commands this file handles. */
export const AUTH_COMMANDS = new Set(['user', 'role', 'auth']);

/** Where and how to reach the store: ctl's global flags, as the key commands use them. */
export interface AuthConn {
  endpoints: string[];
  init: FetchInit;
  timeoutMs: number;
}

class CtlFailure extends Error {}

/** No endpoint answered at all. */
class Unreachable extends Error {}

interface RoleJSON {
  role: string;
  permissions: { kv: { read: string[] | null; write: string[] | null } };
}

/** One request, tried on each endpoint in turn until one answers (etcdctl's client does the same). */
async function call(c: AuthConn, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }> {
  let lastError: PlainRequestError | undefined;
  for (const ep of c.endpoints) {
    const url = `${endpointUrl(ep).href.replace(/\/$/, '')}${path}`;
    try {
      const r = await plainRequest(url, c.init, { method, json: body, timeoutMs: c.timeoutMs });
      let json: unknown = null;
      try {
        json = r.body ? JSON.parse(r.body) : null;
      } catch {
        /* not JSON */
      }
      return { status: r.status, json, text: r.body };
    } catch (e) {
      if (!(e instanceof PlainRequestError)) throw e;
      lastError = e;
    }
  }
  throw new Unreachable(lastError?.goMessage ?? 'no endpoint given');
}

/** Calls /v2/auth and fails with the server's message unless the status is 2xx. */
async function authCall(c: AuthConn, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await call(c, method, `/v2/auth${path}`, body);
  if (r.status >= 200 && r.status < 300) return r.json;
  const message = (r.json as { message?: string } | null)?.message ?? r.text.trim();
  throw new CtlFailure(message || `HTTP ${r.status}`);
}

async function askPassword(prompt: string, out: (s: string) => void): Promise<string> {
  out(prompt);
  return readStdinLine();
}

const enc = encodeURIComponent;

function formatRole(r: RoleJSON): string {
  const list = (xs: string[] | null) => (xs ?? []).map((p) => `\t${p}\n`).join('');
  return `Role: ${r.role}\nKV Read:\n${list(r.permissions.kv.read)}KV Write:\n${list(r.permissions.kv.write)}`;
}

const roleFlags: FlagSpec[] = [
  { name: 'path', type: 'string', default: '', help: 'path granted for the role to access', env: null },
  { name: 'read', type: 'bool', default: false, help: 'read-only access', env: null },
  { name: 'write', type: 'bool', default: false, help: 'write-only access', env: null },
  { name: 'readwrite', type: 'bool', default: false, help: 'read-write access', env: null },
  { name: 'rw', type: 'bool', default: false, help: 'read-write access', env: null },
];
const userFlags: FlagSpec[] = [{ name: 'roles', type: 'list', default: [], help: 'roles to grant or revoke', env: null }];

async function userCommand(c: AuthConn, sub: string, args: string[], out: (s: string) => void): Promise<void> {
  const p = parseConfig<{ roles: string[] }>(userFlags, args, {}, { allowPositionals: true });
  const name = p.positionals[0];
  if (sub === 'list') {
    const body = (await authCall(c, 'GET', '/users')) as { users: { user: string }[] | null };
    for (const u of body.users ?? []) out(`${u.user}\n`);
    return;
  }
  if (!name) throw new CtlFailure('Please provide a username');
  if (sub === 'add' || sub === 'passwd') {
    const colon = sub === 'add' ? name.indexOf(':') : -1;
    const user = colon >= 0 ? name.slice(0, colon) : name;
    const password = colon >= 0 ? name.slice(colon + 1) : await askPassword('New password: ', out);
    await authCall(c, 'PUT', `/users/${enc(user)}`, { user, password });
    out(sub === 'add' ? `User ${user} created\n` : 'Password updated\n');
  } else if (sub === 'get') {
    const u = (await authCall(c, 'GET', `/users/${enc(name)}`)) as { user: string; roles?: RoleJSON[] };
    const roles = (u.roles ?? []).map((r) => r.role);
    // etcdctl prints one extra space per role (its slice is pre-sized, then appended to).
    out(`User: ${u.user}\nRoles: ${' '.repeat(roles.length)}${roles.join(' ')}\n`);
  } else if (sub === 'remove') {
    await authCall(c, 'DELETE', `/users/${enc(name)}`);
    out(`User ${name} removed\n`);
  } else if (sub === 'grant' || sub === 'revoke') {
    if (p.values.roles.length === 0) throw new CtlFailure('No roles specified; please use `--roles`');
    await authCall(c, 'PUT', `/users/${enc(name)}`, { user: name, [sub]: p.values.roles });
    out(`User ${name} updated\n`);
  } else {
    throw new CtlFailure(`unknown command user ${sub}: use add, get, list, remove, grant, revoke or passwd`);
  }
}

async function roleCommand(c: AuthConn, sub: string, args: string[], out: (s: string) => void): Promise<void> {
  const p = parseConfig<{ path: string; read: boolean; write: boolean; readwrite: boolean; rw: boolean }>(roleFlags, args, {}, { allowPositionals: true });
  const name = p.positionals[0];
  if (sub === 'list') {
    const body = (await authCall(c, 'GET', '/roles')) as { roles: RoleJSON[] | null };
    for (const r of body.roles ?? []) out(`${r.role}\n`);
    return;
  }
  if (!name) throw new CtlFailure('Please provide a role name');
  if (sub === 'add') {
    const existing = await call(c, 'GET', `/v2/auth/roles/${enc(name)}`);
    if (existing.status === 200) throw new CtlFailure(`Role ${name} already exists`);
    await authCall(c, 'PUT', `/roles/${enc(name)}`, { role: name });
    out(`Role ${name} created\n`);
  } else if (sub === 'get') {
    out(formatRole((await authCall(c, 'GET', `/roles/${enc(name)}`)) as RoleJSON));
  } else if (sub === 'remove') {
    await authCall(c, 'DELETE', `/roles/${enc(name)}`);
    out(`Role ${name} removed\n`);
  } else if (sub === 'grant' || sub === 'revoke') {
    const v = p.values;
    const rw = v.readwrite || v.rw;
    if ([v.read, v.write, rw].filter(Boolean).length !== 1) throw new CtlFailure('Please specify exactly one of --read, --write or --readwrite');
    if (!v.path) throw new CtlFailure('No path specified; please use `--path`');
    const kv = { read: v.read || rw ? [v.path] : [], write: v.write || rw ? [v.path] : [] };
    await authCall(c, 'PUT', `/roles/${enc(name)}`, { role: name, [sub]: { kv } });
    out(`Role ${name} updated\n`);
  } else {
    throw new CtlFailure(`unknown command role ${sub}: use add, get, list, remove, grant or revoke`);
  }
}

async function authSwitch(c: AuthConn, sub: string, out: (s: string) => void): Promise<void> {
  if (sub !== 'enable' && sub !== 'disable') throw new CtlFailure('unknown command: use auth enable or auth disable');
  await authCall(c, sub === 'enable' ? 'PUT' : 'DELETE', '/enable');
  out(`Authentication ${sub === 'enable' ? 'Enabled' : 'Disabled'}\n`);
}

/** Runs `cmd` (user, role or auth) with the arguments after it. Returns the exit code. */
export async function runAuthCommand(cmd: string, args: string[], conn: AuthConn, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub) {
    out(`usage: berth ctl ${cmd} ${cmd === 'auth' ? 'enable|disable' : cmd === 'user' ? 'add|get|list|remove|grant|revoke|passwd' : 'add|get|list|remove|grant|revoke'} [args]\n`);
    return 0;
  }
  try {
    if (cmd === 'user') await userCommand(conn, sub, rest, out);
    else if (cmd === 'role') await roleCommand(conn, sub, rest, out);
    else await authSwitch(conn, sub, out);
    return 0;
  } catch (e) {
    // As etcdctl: the cluster error report, exit code 2 when every endpoint refused.
    const report = e instanceof Unreachable ? await clusterErrorReport(conn.endpoints, conn.init, conn.timeoutMs) : null;
    if (report) {
      err(report.text);
      return report.code;
    }
    err(`${(e as Error).message}\n`);
    return 1;
  }
}
