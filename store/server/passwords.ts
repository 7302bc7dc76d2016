/**
 * Password hashing (bcrypt, etcd's cost 10) and checking. A successful bcrypt check is
 * remembered as a keyed digest of the password, so a client sending the same credentials on
 * every request pays bcrypt once, not per request; the cache holds no password and is
 * compared in constant time. A failed check is never cached (guessing stays slow).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { StoredUser } from '../auth/types.ts';

/** etcd 3.4 uses bcrypt.DefaultCost. */
export const BCRYPT_COST = 10;
const CACHE_MAX = 1024;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

/** Checks passwords against stored bcrypt hashes, caching successes (see above). */
export class PasswordVerifier {
  private readonly key = randomBytes(32);
  private readonly verified = new Map<string, { hash: string; digest: Buffer }>();

  private digest(user: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(user).update('\0').update(password).digest();
  }

  async verify(user: StoredUser, password: string): Promise<boolean> {
    const d = this.digest(user.user, password);
    const hit = this.verified.get(user.user);
    if (hit && hit.hash === user.passwordHash && timingSafeEqual(hit.digest, d)) return true;
    const ok = await bcrypt.compare(password, user.passwordHash);
    if (ok) {
      if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(user.user, { hash: user.passwordHash, digest: d });
    }
    return ok;
  }
}
