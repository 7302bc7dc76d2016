/**
 * The auth scenario both stores go through in the auth differential test: users, roles,
 * a narrowed guest role, auth enabled, seed keys, then a table of user × path × method.
 */

/** One HTTP request of the scenario. `as` names a user from CREDENTIALS (absent: anonymous). */
export interface ProbeRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  as?: string;
  /** Compare only the status (the body names cluster-specific ids and URLs). */
  statusOnly?: boolean;
}

/** Login names and the passwords the requests send (wrong on purpose for some). */
export const CREDENTIALS: Record<string, [string, string]> = {
  root: ['root', 'rootpw'],
  alice: ['alice', 'alicepw'],
  bob: ['bob', 'bobpw'],
  carol: ['carol', 'carolpw'],
  dave: ['dave', 'davepw'],
  erin: ['erin', 'erinpw'],
  'alice-bad-password': ['alice', 'wrong'],
  'no-such-user': ['mallory', 'x'],
};

const json = (method: string, path: string, body: unknown, as?: string): ProbeRequest => ({ method, path, body: JSON.stringify(body), contentType: 'application/json', as });
const form = (method: string, path: string, values: Record<string, string>, as?: string): ProbeRequest => ({ method, path, body: new URLSearchParams(values).toString(), contentType: 'application/x-www-form-urlencoded', as });

/** Setting up users and roles, with the errors etcd gives on the way; then auth on and seed data. */
export const SETUP: ProbeRequest[] = [
  { method: 'GET', path: '/v2/auth/enable' },
  { method: 'PUT', path: '/v2/auth/enable' },
  json('PUT', '/v2/auth/users/root', { user: 'root', password: 'rootpw' }),
  json('PUT', '/v2/auth/users/root', { user: 'root', password: 'rootpw', roles: ['x'] }),
  json('PUT', '/v2/auth/roles/reader', { role: 'reader', permissions: { kv: { read: ['/app/*'], write: [] } } }),
  json('PUT', '/v2/auth/roles/reader', { role: 'reader' }),
  json('PUT', '/v2/auth/roles/writer', { role: 'writer' }),
  json('PUT', '/v2/auth/roles/writer', { role: 'writer', grant: { kv: { read: ['/app/*'], write: ['/app/*'] } } }),
  json('PUT', '/v2/auth/roles/writer', { role: 'writer', grant: { kv: { read: ['/app/*'] } } }),
  json('PUT', '/v2/auth/roles/exact', { role: 'exact', permissions: { kv: { read: ['/app/config'], write: ['/app/config'] } } }),
  json('PUT', '/v2/auth/roles/ops', { role: 'ops', permissions: { kv: { read: ['/secret/*'], write: null } } }),
  json('PUT', '/v2/auth/roles/ops', { role: 'ops', permissions: { kv: { read: ['/x'] } }, grant: { kv: { read: ['/y'] } } }),
  json('PUT', '/v2/auth/roles/ops', { role: 'ops', revoke: { kv: { read: ['/not-held'] } } }),
  json('PUT', '/v2/auth/roles/root', { role: 'root' }),
  json('PUT', '/v2/auth/roles/other', { role: 'mismatch' }),
  { method: 'PUT', path: '/v2/auth/roles/broken', body: '{not json', contentType: 'application/json' },
  json('PUT', '/v2/auth/users/alice', { user: 'alice', password: 'alicepw', roles: ['reader'] }),
  json('PUT', '/v2/auth/users/bob', { user: 'bob', password: 'bobpw' }),
  json('PUT', '/v2/auth/users/bob', { user: 'bob', grant: ['writer'] }),
  json('PUT', '/v2/auth/users/bob', { user: 'bob', grant: ['writer'] }),
  json('PUT', '/v2/auth/users/bob', { user: 'bob', revoke: ['nothing'] }),
  json('PUT', '/v2/auth/users/carol', { user: 'carol', password: 'carolpw', roles: ['exact'] }),
  json('PUT', '/v2/auth/users/dave', { user: 'dave', password: 'davepw' }),
  json('PUT', '/v2/auth/users/dave', { user: 'dave' }),
  json('PUT', '/v2/auth/users/erin', { user: 'erin', password: 'erinpw', roles: ['reader', 'ops'] }),
  json('PUT', '/v2/auth/users/frank', { user: 'frank' }),
  json('PUT', '/v2/auth/users/frank', { user: 'frank', password: 'x', roles: ['a'], grant: ['b'] }),
  json('PUT', '/v2/auth/users/grace', { user: 'grace', password: 'gracepw', roles: ['reader'] }),
  { method: 'DELETE', path: '/v2/auth/users/grace' },
  { method: 'DELETE', path: '/v2/auth/users/grace' },
  { method: 'DELETE', path: '/v2/auth/roles/nope' },
  { method: 'DELETE', path: '/v2/auth/roles/root' },
  { method: 'GET', path: '/v2/auth/users' },
  { method: 'GET', path: '/v2/auth/users/erin' },
  { method: 'GET', path: '/v2/auth/users/nobody' },
  { method: 'GET', path: '/v2/auth/roles' },
  { method: 'GET', path: '/v2/auth/roles/root' },
  { method: 'PUT', path: '/v2/auth/enable' },
  { method: 'GET', path: '/v2/auth/enable' },
  { method: 'PUT', path: '/v2/auth/enable', as: 'root' },
  { method: 'GET', path: '/v2/auth/roles/guest', as: 'root' },
  json('PUT', '/v2/auth/roles/guest', { role: 'guest', revoke: { kv: { read: ['/*'], write: ['/*'] } } }, 'root'),
  json('PUT', '/v2/auth/roles/guest', { role: 'guest', grant: { kv: { read: ['/public/*'] } } }, 'root'),
  form('PUT', '/v2/keys/app/config', { value: 'cfg' }, 'root'),
  form('PUT', '/v2/keys/app/sub/x', { value: 'deep' }, 'root'),
  form('PUT', '/v2/keys/public/p', { value: 'open' }, 'root'),
  form('PUT', '/v2/keys/secret/s', { value: 'hidden' }, 'root'),
  form('PUT', '/v2/keys/apple', { value: 'not-app' }, 'root'),
  { method: 'DELETE', path: '/v2/auth/users/root', as: 'root' },
  { method: 'DELETE', path: '/v2/auth/enable', as: 'alice' },
];

const USERS: (string | undefined)[] = [undefined, ...Object.keys(CREDENTIALS)];
const KEY_PATHS = ['/v2/keys', '/v2/keys/', '/v2/keys/app', '/v2/keys/app/config', '/v2/keys/app/sub/x', '/v2/keys/public/p', '/v2/keys/secret/s', '/v2/keys/apple'];

/** user × key path × method; the writes are chosen to leave both stores equal whatever the answer. */
export function keyTable(): ProbeRequest[] {
  const out: ProbeRequest[] = [];
  for (const as of USERS) {
    for (const path of KEY_PATHS) {
      out.push({ method: 'GET', path, as });
      out.push({ method: 'GET', path: `${path}?recursive=true`, as });
      out.push({ method: 'HEAD', path, as });
      out.push(form('PUT', path, { value: 'same', prevExist: 'true', prevValue: 'never-matches' }, as));
      // (Compare-and-delete on the root: etcd omits the error's cause, berth's kv names "/"; not an auth matter.)
      if (path !== '/v2/keys' && path !== '/v2/keys/') out.push({ method: 'DELETE', path: `${path}?prevValue=never-matches`, as });
      out.push({ method: 'GET', path: `${path}?wait=true&waitIndex=1`, as });
    }
  }
  return out;
}

/** user × auth endpoint: who may list, read and change users, roles and the switch. */
export function adminTable(): ProbeRequest[] {
  const out: ProbeRequest[] = [];
  for (const as of USERS) {
    out.push({ method: 'GET', path: '/v2/auth/users', as });
    out.push({ method: 'GET', path: '/v2/auth/users/alice', as });
    out.push({ method: 'GET', path: '/v2/auth/roles', as });
    out.push({ method: 'GET', path: '/v2/auth/roles/reader', as });
    out.push({ method: 'GET', path: '/v2/auth/enable', as });
    out.push(json('PUT', '/v2/auth/roles/reader', { role: 'reader', grant: { kv: { read: ['/app/*'] } } }, as));
    out.push(json('PUT', '/v2/auth/users/alice', { user: 'alice', revoke: ['not-granted'] }, as));
    out.push({ method: 'PATCH', path: '/v2/auth/users/alice', as });
    out.push({ method: 'GET', path: '/v2/members', as, statusOnly: true });
    out.push({ method: 'DELETE', path: '/v2/members/0', as });
  }
  return out;
}
