/**
 * Registry URLs: `http://host:2379/services`, `etcd://host:2379/services` (registrator's form),
 * and several comma-separated ones that fail over (`http://a:2379,http://b:2379/services`). The
 * path is the key prefix; without one the prefix is /services.
 */
import { ConfigError } from '../lib/errors.ts';
import { UnknownRegistryError } from './errors.ts';

/** Store endpoints plus the key prefix shared by all of them. */
export interface RegistryTarget {
  readonly endpoints: string[];
  /** "/services": leading slash, no trailing slash. */
  readonly prefix: string;
}

const SCHEMES: Record<string, string> = { 'http:': 'http:', 'https:': 'https:', 'etcd:': 'http:', 'etcds:': 'https:' };

/** Parses the positional URL argument; errors name it and show the accepted form. */
export function parseRegistryUrl(arg: string): RegistryTarget {
  const parts = arg.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new ConfigError('URL', 'missing; e.g. http://127.0.0.1:2379/services');
  const endpoints: string[] = [];
  const prefixes = new Set<string>();
  let scheme = 'http:';
  for (const part of parts) {
    const withScheme = part.includes('://') ? part : `${scheme.replace(':', '')}://${part}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new ConfigError('URL', `"${part}" is not a URL; e.g. http://127.0.0.1:2379/services`);
    }
    const mapped = SCHEMES[url.protocol];
    if (!mapped) throw new UnknownRegistryError(part);
    scheme = url.protocol;
    endpoints.push(`${mapped}//${url.host}`);
    const path = url.pathname.replace(/\/+$/, '');
    if (path !== '') prefixes.add(path);
  }
  if (prefixes.size > 1) throw new ConfigError('URL', `the endpoints name different key prefixes (${[...prefixes].join(', ')}); give the prefix once`);
  return { endpoints, prefix: [...prefixes][0] ?? '/services' };
}
