import { BerthError } from '../../lib/errors.ts';

/**
 * etcd's v2auth.Error: an HTTP status and a message starting with "auth: ". The HTTP layer
 * answers `{"message": "<message>"}` with the status, as etcd does.
 */
export class AuthError extends BerthError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('BERTH_AUTH', `auth: ${message}`);
  }
}
