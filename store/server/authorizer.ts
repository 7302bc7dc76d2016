/**
 * Who is asking, and may they? etcd 3.4's v2 rules: with auth disabled everyone may do
 * everything. With it enabled, a request names its user with HTTP basic auth, or (with
 * --client-cert-auth and no Authorization header) with its verified client certificate's CN;
 * a request naming no user is the guest role. A bad password is no user at all.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { hasKeyAccess, hasRecursiveAccess } from '../auth/permissions.ts';
import { GUEST_ROLE, ROOT_ROLE, type StoredUser } from '../auth/types.ts';
import type { StoreNode } from '../node/types.ts';
import type { PasswordVerifier } from './passwords.ts';

/** Go's Request.BasicAuth: "Basic " + base64(user:password); null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { username: string; password: string } | null {
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return null;
  const b64 = header.slice(6);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  const decoded = Buffer.from(b64, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: Buffer.from(decoded.slice(0, colon), 'latin1').toString('utf8'), password: Buffer.from(decoded.slice(colon + 1), 'latin1').toString('utf8') };
}

/**
 * What the authorizer reads of a request: node:http's IncomingMessage is one, and the fast path
 * (fast-path/) makes one from the head it parsed.
 */
export interface Requester {
  method?: string;
  headers: { authorization?: string };
  socket: Socket;
}

/** The verified client certificate's subject CN, if the connection has one. */
export function clientCertCommonName(req: Requester): string | null {
  const sock = req.socket as TLSSocket;
  if (typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return null;
  const cert = sock.getPeerCertificate();
  const cn = cert?.subject?.CN;
  return typeof cn === 'string' ? cn : Array.isArray(cn) ? (cn[0] ?? null) : null;
}

export class Authorizer {
  constructor(
    private readonly node: StoreNode,
    private readonly passwords: PasswordVerifier,
    private readonly clientCertAuth: boolean,
  ) {}

  get enabled(): boolean {
    return this.node.auth.enabled;
  }

  private async userFromBasicAuth(req: Requester): Promise<StoredUser | null> {
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) return null;
    const user = this.node.auth.findUser(creds.username);
    if (!user) return null;
    return (await this.passwords.verify(user, creds.password)) ? user : null;
  }

  private userFromClientCert(req: Requester): StoredUser | null {
    const cn = clientCertCommonName(req);
    return cn === null ? null : (this.node.auth.findUser(cn) ?? null);
  }

  /**
   * The user a request names: null when it names none (the guest role), 'invalid' for an unknown
   * user or a wrong password. The key checks, the root checks and the dashboard's sign-in all ask
   * this one question.
   */
  async identify(req: Requester): Promise<StoredUser | null | 'invalid'> {
    if (!req.headers.authorization) return this.clientCertAuth ? this.userFromClientCert(req) : null;
    return (await this.userFromBasicAuth(req)) ?? 'invalid';
  }

  /** etcd's hasRootAccess: the user holds the root role. */
  async hasRootAccess(req: Requester): Promise<boolean> {
    if (!this.enabled) return true;
    const user = await this.identify(req);
    return user !== null && user !== 'invalid' && (user.roles ?? []).includes(ROOT_ROLE);
  }

  /** etcd's hasWriteRootAccess: reads are open, changes need root. */
  async hasWriteRootAccess(req: Requester): Promise<boolean> {
    if (req.method === 'GET' || req.method === 'HEAD') return true;
    return this.hasRootAccess(req);
  }

  /** etcd's hasKeyPrefixAccess for a /v2/keys request on `key` (the path after /v2/keys). */
  async hasKeyAccess(req: Requester, key: string, recursive: boolean): Promise<boolean> {
    if (!this.enabled) return true;
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    const user = await this.identify(req);
    if (user === 'invalid') return false;
    if (user === null) {
      // etcd checks the guest role without regard to recursive.
      const guest = this.node.auth.findRole(GUEST_ROLE);
      return !!guest && hasKeyAccess(guest, key, write);
    }
    for (const name of user.roles ?? []) {
      const role = this.node.auth.findRole(name);
      if (!role) continue;
      if (recursive ? hasRecursiveAccess(role, key, write) : hasKeyAccess(role, key, write)) return true;
    }
    return false;
  }
}
