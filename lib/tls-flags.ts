/**
 * The companions' client TLS flags (`--cacert`, `--cert`, `--key`, as etcdctl names them):
 * turn the file names into the PEM buffers HttpKvBackend's `tls` option takes.
 *
 *   const tls = readClientTls({ cacert: flags.cacert, cert: flags.cert, key: flags.key });
 *   new HttpKvBackend({ endpoints, tls });
 */
import { readFileSync } from 'node:fs';
import type { FlagSpec } from './config.ts';
import { ConfigError } from './errors.ts';

/** Flag specs for lib/config.ts tables, to spread into a command's own table. */
export const CLIENT_TLS_FLAG_SPECS: readonly FlagSpec[] = [
  { name: 'cacert', type: 'string', default: undefined, help: 'verify the store servers with this CA bundle (PEM)' },
  { name: 'cert', type: 'string', default: undefined, help: 'client certificate (PEM) for stores with --client-cert-auth' },
  { name: 'key', type: 'string', default: undefined, help: 'key (PEM) of the client certificate' },
];

export interface ClientTlsFiles {
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface ClientTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** The file a flag names; a ConfigError naming the flag when it cannot be read. */
export function readFlagFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`--${flag}`, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** The PEM material named by the flags; undefined when none is set. --cert and --key go together. */
export function readClientTls(files: ClientTlsFiles): ClientTls | undefined {
  if (!files.cacert && !files.cert && !files.key) return undefined;
  if (!!files.cert !== !!files.key) throw new ConfigError(files.cert ? '--key' : '--cert', 'is required with ' + (files.cert ? '--cert' : '--key'));
  return {
    ca: files.cacert ? readFlagFile('cacert', files.cacert) : undefined,
    cert: files.cert ? readFlagFile('cert', files.cert) : undefined,
    key: files.key ? readFlagFile('key', files.key) : undefined,
  };
}
