/**
 * Handlebars helpers for configuration templates (confd / consul-template's vocabulary):
 * services, service, ls, tree, get, exists, json, byTag, groupBy, sort, default, eq, join...
 * Every helper reads the store view passed as `data.berthKeys` at render time.
 */
import Handlebars from 'handlebars';
import { normalizeDir, servicesUnder, upstreamsIn, type KeyMap, type Upstream } from './services.ts';

type Options = Handlebars.HelperOptions;

/** The root under which `service "web"` looks: /services/web. */
export const DEFAULT_SERVICES_ROOT = '/services';

function keysOf(options: Options): KeyMap {
  const keys = (options.data as { berthKeys?: KeyMap } | undefined)?.berthKeys;
  if (!keys) throw new Error('template rendered without a store view');
  return keys;
}

/** Handlebars passes the options object last; strip it to get the positional arguments. */
function split(args: unknown[]): { pos: unknown[]; options: Options } {
  return { pos: args.slice(0, -1), options: args[args.length - 1] as Options };
}

function serviceDir(nameOrDir: string): string {
  return nameOrDir.startsWith('/') ? normalizeDir(nameOrDir) : `${DEFAULT_SERVICES_ROOT}/${nameOrDir}`;
}

function withTag(list: readonly Upstream[], tag: unknown): Upstream[] {
  return tag === undefined ? [...list] : list.filter((u) => u.tags.includes(String(tag)));
}

function field(item: unknown, path: string): unknown {
  let v: unknown = item;
  for (const part of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a ?? '');
  const sb = String(b ?? '');
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function leafEntries(keys: KeyMap, dir: string, recursive: boolean): { key: string; name: string; value: string }[] {
  const d = normalizeDir(dir);
  const prefix = d === '/' ? '/' : d + '/';
  const out: { key: string; name: string; value: string }[] = [];
  for (const [key, value] of keys) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (!recursive && rest.includes('/')) continue;
    if (rest.split('/').some((s) => s.startsWith('_'))) continue;
    out.push({ key, name: rest, value });
  }
  return out.sort((a, b) => compare(a.key, b.key));
}

/** Registers the helpers on a Handlebars environment. */
export function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('services', (...args: unknown[]) => {
    const { pos, options } = split(args);
    const root = pos[0] === undefined ? DEFAULT_SERVICES_ROOT : String(pos[0]);
    const tag = options.hash?.tag;
    return servicesUnder(keysOf(options), root)
      .map((s) => ({ ...s, upstreams: withTag(s.upstreams, tag) }))
      .filter((s) => s.upstreams.length > 0);
  });
  hb.registerHelper('service', (...args: unknown[]) => {
    const { pos, options } = split(args);
    return withTag(upstreamsIn(keysOf(options), serviceDir(String(pos[0]))), options.hash?.tag);
  });
  hb.registerHelper('ls', (...args: unknown[]) => {
    const { pos, options } = split(args);
    return leafEntries(keysOf(options), String(pos[0] ?? '/'), false);
  });
  hb.registerHelper('tree', (...args: unknown[]) => {
    const { pos, options } = split(args);
    return leafEntries(keysOf(options), String(pos[0] ?? '/'), true);
  });
  hb.registerHelper('get', (...args: unknown[]) => {
    const { pos, options } = split(args);
    return keysOf(options).get(normalizeDir(String(pos[0]))) ?? (pos[1] === undefined ? '' : pos[1]);
  });
  hb.registerHelper('exists', (...args: unknown[]) => {
    const { pos, options } = split(args);
    return keysOf(options).has(normalizeDir(String(pos[0])));
  });
  hb.registerHelper('json', (...args: unknown[]) => {
    const { pos, options } = split(args);
    const raw = keysOf(options).get(normalizeDir(String(pos[0])));
    if (raw === undefined) return pos[1] ?? null;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return pos[1] ?? null;
    }
  });
  hb.registerHelper('byTag', (list: readonly Upstream[] | undefined) => {
    const groups = new Map<string, Upstream[]>();
    for (const u of list ?? []) for (const t of u.tags) groups.set(t, [...(groups.get(t) ?? []), u]);
    return [...groups.entries()].sort((a, b) => compare(a[0], b[0])).map(([tag, upstreams]) => ({ tag, upstreams }));
  });
  hb.registerHelper('groupBy', (list: readonly unknown[] | undefined, path: string) => {
    const groups = new Map<string, unknown[]>();
    for (const item of list ?? []) {
      const k = String(field(item, path) ?? '');
      groups.set(k, [...(groups.get(k) ?? []), item]);
    }
    return [...groups.entries()].sort((a, b) => compare(a[0], b[0])).map(([key, items]) => ({ key, items }));
  });
  hb.registerHelper('sort', (...args: unknown[]) => {
    const { pos } = split(args);
    const list = (pos[0] as readonly unknown[] | undefined) ?? [];
    const path = pos[1] === undefined ? undefined : String(pos[1]);
    const sorted = [...list].sort((a, b) => (path === undefined ? compare(a, b) : compare(field(a, path), field(b, path))));
    return pos[2] === 'desc' ? sorted.reverse() : sorted;
  });
  hb.registerHelper('default', (value: unknown, fallback: unknown) => (value === undefined || value === null || value === '' ? fallback : value));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  hb.registerHelper('len', (list: unknown) => (Array.isArray(list) ? list.length : 0));
  hb.registerHelper('join', (list: readonly unknown[] | undefined, sep: unknown) => (list ?? []).map(String).join(typeof sep === 'string' ? sep : ','));
  hb.registerHelper('contains', (list: readonly unknown[] | undefined, item: unknown) => (list ?? []).includes(item));
  hb.registerHelper('toJSON', (value: unknown) => JSON.stringify(value ?? null));
  hb.registerHelper('replace', (s: unknown, from: string, to: string) => String(s ?? '').split(from).join(to));
}

/** A Handlebars environment with the helpers, no HTML escaping (we render config files). */
export function createTemplateEngine(): typeof Handlebars {
  const hb = Handlebars.create();
  registerHelpers(hb);
  return hb;
}

/** Compiles `source` once; the result renders a store view. */
export function compileTemplate(hb: typeof Handlebars, source: string): (keys: KeyMap, vars?: Record<string, unknown>) => string {
  const tpl = hb.compile(source, { noEscape: true, strict: false });
  return (keys, vars = {}) => tpl(vars, { data: { berthKeys: keys } });
}
