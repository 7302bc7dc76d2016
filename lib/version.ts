import { readFileSync } from 'node:fs';

/** The package version, read once from package.json. */
export const BERTH_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The etcd version berth answers as on /version, so etcd clients accept it. */
export const ETCD_COMPAT_VERSION = '3.4.30';
