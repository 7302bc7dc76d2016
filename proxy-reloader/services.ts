/**
 * The registrator's layout read from a flat view of the store: `/services/<name>/<id>` =
 * "ip:port", with optional metadata JSON at `/services/<name>/_meta/<id>`
 * ({"tags":[...],"attrs":{...}}). Pure functions over a key -> value map.
 */

/** One endpoint of a service. */
export interface Upstream {
  /** The service id (last path segment). */
  readonly id: string;
  /** "ip:port" as registered. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly attrs: Readonly<Record<string, string>>;
}

/** A service directory and its upstreams, sorted by id. */
export interface Service {
  readonly name: string;
  /** The directory key, e.g. /services/web. */
  readonly dir: string;
  readonly upstreams: readonly Upstream[];
}

/** Flat key -> value view (leaf keys only, absolute paths). */
export type KeyMap = ReadonlyMap<string, string>;

/** "10.0.0.2:8080" or "[::1]:80" -> host and port; null when it is not an address. */
export function splitAddress(value: string): { host: string; port: number } | null {
  const m = /^\s*(\[[^\]]+\]|[^:\s]+):(\d{1,5})\s*$/.exec(value);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

function parseMeta(raw: string | undefined): { tags: string[]; attrs: Record<string, string> } {
  if (raw === undefined) return { tags: [], attrs: {} };
  try {
    const j = JSON.parse(raw) as { tags?: unknown; attrs?: unknown };
    const tags = Array.isArray(j.tags) ? j.tags.map(String) : [];
    const attrs: Record<string, string> = {};
    if (j.attrs && typeof j.attrs === 'object') for (const [k, v] of Object.entries(j.attrs)) attrs[k] = String(v);
    return { tags, attrs };
  } catch {
    return { tags: [], attrs: {} };
  }
}

function parentOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/')) || '/';
}

function baseOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** Trims trailing slashes and ensures a leading one: "services/web/" -> "/services/web". */
export function normalizeDir(dir: string): string {
  const d = ('/' + dir).replace(/\/+/g, '/').replace(/\/$/, '');
  return d === '' ? '/' : d;
}

/** The upstreams registered directly in `dir`; values that are not ip:port are skipped. */
export function upstreamsIn(keys: KeyMap, dir: string): Upstream[] {
  const d = normalizeDir(dir);
  const out: Upstream[] = [];
  for (const [key, value] of keys) {
    if (parentOf(key) !== d) continue;
    const id = baseOf(key);
    if (id.startsWith('_')) continue;
    const addr = splitAddress(value);
    if (!addr) continue;
    const meta = parseMeta(keys.get(`${d}/_meta/${id}`));
    out.push({ id, address: value.trim(), host: addr.host, port: addr.port, tags: meta.tags, attrs: meta.attrs });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Every service directory below `root` (any depth) that holds at least one upstream, by name. */
export function servicesUnder(keys: KeyMap, root: string): Service[] {
  const r = normalizeDir(root);
  const dirs = new Set<string>();
  for (const [key, value] of keys) {
    const dir = parentOf(key);
    if (!(dir === r || dir.startsWith(r === '/' ? '/' : r + '/'))) continue;
    if (dir.split('/').some((s) => s.startsWith('_')) || baseOf(key).startsWith('_')) continue;
    if (splitAddress(value)) dirs.add(dir);
  }
  return [...dirs]
    .sort()
    .map((dir) => ({ name: dir === r ? baseOf(r) : dir.slice(r.length + (r === '/' ? 0 : 1)), dir, upstreams: upstreamsIn(keys, dir) }));
}

/** Directories that hold leaf keys (candidates for a sibling `_meta` watch). */
export function leafDirs(keys: KeyMap): Set<string> {
  const dirs = new Set<string>();
  for (const key of keys.keys()) {
    const dir = parentOf(key);
    if (!dir.split('/').some((s) => s.startsWith('_'))) dirs.add(dir);
  }
  return dirs;
}
