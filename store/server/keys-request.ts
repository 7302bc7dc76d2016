import { EtcdError, EtcdErrorCode } from '../kv/errors.ts';
import { cleanKey } from '../kv/path.ts';
import { parseGoBool, parseGoUint, type Form } from './form.ts';

/** A v2 keys request after etcd's validation. */
export interface KeyRequest {
  method: string;
  key: string;
  value: string;
  dir: boolean;
  prevValue: string;
  prevIndex: number;
  prevExist: boolean | undefined;
  wait: boolean;
  waitIndex: number;
  recursive: boolean;
  sorted: boolean;
  quorum: boolean;
  stream: boolean;
  refresh: boolean;
  /** null: no TTL given (or given empty). */
  ttlSeconds: number | null;
  noValueOnSuccess: boolean;
}

const invalid = (code: EtcdErrorCode, cause: string) => new EtcdError(code, cause, 0);

function flag(form: Form, name: string, cause = `invalid value for "${name}"`): boolean {
  if (!form.has(name)) return false;
  const b = parseGoBool(form.value(name));
  if (b === null) throw invalid(EtcdErrorCode.InvalidField, cause);
  return b;
}

function uint(form: Form, name: string, code: EtcdErrorCode): number {
  if (!form.has(name)) return 0;
  const n = parseGoUint(form.value(name));
  if (n === null) throw invalid(code, `invalid value for "${name}"`);
  return n;
}

/**
 * Validates the parameters in etcd's order, so the first problem reported is the one etcd
 * would report. `keyPath` is the URL path after /v2/keys, already percent-decoded.
 */
export function parseKeyRequest(method: string, keyPath: string, form: Form): KeyRequest {
  const prevIndex = uint(form, 'prevIndex', EtcdErrorCode.IndexNaN);
  const waitIndex = uint(form, 'waitIndex', EtcdErrorCode.IndexNaN);
  const recursive = flag(form, 'recursive');
  const sorted = flag(form, 'sorted');
  const wait = flag(form, 'wait');
  const dir = flag(form, 'dir');
  const quorum = flag(form, 'quorum');
  const stream = flag(form, 'stream');
  if (wait && method !== 'GET') throw invalid(EtcdErrorCode.InvalidField, '"wait" can only be used with GET requests');
  const prevValue = form.value('prevValue');
  if (form.has('prevValue') && prevValue === '') throw invalid(EtcdErrorCode.PrevValueRequired, '"prevValue" cannot be empty');
  const noValueOnSuccess = flag(form, 'noValueOnSuccess');

  let ttlSeconds: number | null = null;
  if (form.value('ttl').length > 0) {
    ttlSeconds = parseGoUint(form.value('ttl'));
    if (ttlSeconds === null) throw invalid(EtcdErrorCode.TTLNaN, 'invalid value for "ttl"');
  }
  let prevExist: boolean | undefined;
  if (form.has('prevExist')) prevExist = flag(form, 'prevExist', 'invalid value for prevExist');
  let refresh = false;
  if (form.has('refresh')) {
    refresh = flag(form, 'refresh', 'invalid value for refresh');
    if (refresh) {
      if (form.has('value') && form.value('value') !== '') throw invalid(EtcdErrorCode.RefreshValue, 'A value was provided on a refresh');
      if (ttlSeconds === null) throw invalid(EtcdErrorCode.RefreshTTLRequired, 'No TTL value set');
    }
  }
  return {
    method,
    key: cleanKey(keyPath),
    value: form.value('value'),
    dir,
    prevValue,
    prevIndex,
    prevExist,
    wait,
    waitIndex,
    recursive,
    sorted,
    quorum,
    stream,
    refresh,
    ttlSeconds,
    noValueOnSuccess,
  };
}
