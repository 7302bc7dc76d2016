/**
 * SERVICE_* metadata from a container's environment and labels, as gliderlabs/registrator reads
 * it: `SERVICE_NAME=web`, `SERVICE_80_NAME=web-http` (per port), labels win over env.
 */
import type { ContainerView } from './types.ts';

/** Metadata for one port: keys lower-case ("name", "tags", "ignore", any attribute). */
export interface PortMetadata {
  readonly values: Readonly<Record<string, string>>;
  /** Keys that came from the per-port form `SERVICE_<port>_<KEY>`. */
  readonly fromPort: ReadonlySet<string>;
}

const PREFIX = 'SERVICE_';

function collect(container: ContainerView): Map<string, string> {
  const all = new Map<string, string>();
  // Env first, then labels: a label overrides the same key from the environment.
  for (const source of [container.env, container.labels]) {
    for (const [k, v] of Object.entries(source)) {
      if (k.startsWith(PREFIX)) all.set(k.slice(PREFIX.length), v);
    }
  }
  return all;
}

/**
 * The metadata that applies to container port `port`: container-wide keys, overridden by the
 * `SERVICE_<port>_*` forms. Keys of other ports are left out.
 */
export function portMetadata(container: ContainerView, port: number): PortMetadata {
  const values: Record<string, string> = {};
  const fromPort = new Set<string>();
  const perPort: [string, string][] = [];
  for (const [rawKey, value] of collect(container)) {
    const m = /^(\d+)_(.+)$/.exec(rawKey);
    if (m) {
      if (Number(m[1]) === port) perPort.push([m[2]!.toLowerCase(), value]);
      continue;
    }
    values[rawKey.toLowerCase()] = value;
  }
  for (const [key, value] of perPort) {
    values[key] = value;
    fromPort.add(key);
  }
  return { values, fromPort };
}

/** Whether the whole container opted out (`SERVICE_IGNORE` with any non-empty value). */
export function containerIgnored(container: ContainerView): boolean {
  const v = collect(container).get('IGNORE');
  return v !== undefined && v !== '';
}

/** Keys that steer registration rather than describe the service. */
const RESERVED = new Set(['name', 'tags', 'id', 'ignore', 'ip', 'network', 'port']);

/** Free attributes: every key that is neither reserved nor a health check (`check_*`). */
export function attributes(meta: PortMetadata): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const key of Object.keys(meta.values).sort()) {
    if (RESERVED.has(key) || key.startsWith('check')) continue;
    attrs[key] = meta.values[key]!;
  }
  return attrs;
}

/** Comma-separated tags, trimmed, empty ones dropped, de-duplicated in order. */
export function parseTags(...lists: (string | readonly string[] | undefined)[]): string[] {
  const out: string[] = [];
  for (const list of lists) {
    const items = typeof list === 'string' ? list.split(',') : (list ?? []);
    for (const raw of items) {
      const t = raw.trim();
      if (t !== '' && !out.includes(t)) out.push(t);
    }
  }
  return out;
}
