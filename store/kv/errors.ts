import { BerthError } from '../../lib/errors.ts';

/** etcd v2 error codes, with etcd's messages. */
export const EtcdErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  Unauthorized: 110,
  PrevValueRequired: 201,
  TTLNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTTLRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  WatcherCleared: 400,
  EventIndexCleared: 401,
} as const;
export type EtcdErrorCode = (typeof EtcdErrorCode)[keyof typeof EtcdErrorCode];

export const etcdErrorMessages: Record<EtcdErrorCode, string> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  104: 'Not a directory',
  105: 'Key already exists',
  107: 'Root is read only',
  108: 'Directory not empty',
  110: 'The request requires user authentication',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
  301: 'During Leader Election',
  400: 'watcher is cleared due to etcd recovery',
  401: 'The event in requested index is outdated and cleared',
};

/** etcd's status mapping: 100→404; 101,105→412; 102,108→403; 110→401; 300,301→500; all others→400. */
export function httpStatusFor(code: EtcdErrorCode): number {
  switch (code) {
    case 100:
      return 404;
    case 101:
    case 105:
      return 412;
    case 102:
    case 108:
      return 403;
    case 110:
      return 401;
    case 300:
    case 301:
      return 500;
    default:
      return 400;
  }
}

/**
 * An error the v2 API reports to the client as etcd's JSON:
 * `{"errorCode":N,"message":"…","cause":"…","index":N}`.
 */
export class EtcdError extends BerthError {
  readonly errorCode: EtcdErrorCode;
  /** etcd's `cause` field (omitted from JSON when empty). */
  readonly etcdCause: string;
  /** The etcd index to report: the current index for store errors, 0 for parse/auth errors. */
  readonly index: number;

  constructor(errorCode: EtcdErrorCode, etcdCause = '', index = 0) {
    super(`BERTH_ETCD_${errorCode}`, etcdCause ? `${etcdErrorMessages[errorCode]} (${etcdCause})` : etcdErrorMessages[errorCode]);
    this.errorCode = errorCode;
    this.etcdCause = etcdCause;
    this.index = index;
  }

  get httpStatus(): number {
    return httpStatusFor(this.errorCode);
  }

  /** The body etcd sends, without the trailing newline. */
  toJSON(): { errorCode: number; message: string; cause?: string; index: number } {
    const body: { errorCode: number; message: string; cause?: string; index: number } = {
      errorCode: this.errorCode,
      message: etcdErrorMessages[this.errorCode],
      index: this.index,
    };
    if (this.etcdCause) body.cause = this.etcdCause;
    // Keep etcd's field order: errorCode, message, cause, index.
    return this.etcdCause
      ? { errorCode: body.errorCode, message: body.message, cause: body.cause, index: body.index }
      : body;
  }
}
