/**
 * The config file (YAML or JSON; YAML is a superset). Relative paths are relative to the file.
 *
 *   store: [http://127.0.0.1:2379]
 *   wait: 200ms:2s
 *   max-removal: 50          # percent of a service's upstreams that may vanish at once
 *   removal-grace: 10s
 *   watch: [/services]       # default: /services
 *   templates:
 *     - source: nginx.conf.hbs
 *       dest: /etc/nginx/conf.d/upstreams.conf
 *       check: nginx -t
 *       reload: nginx -s reload
 *       group: nginx          # one check + one reload per group
 *       mode: rename          # or inplace (single-file bind mounts)
 *       perms: "0644"
 *       timeout: 10s          # check and reload commands
 *       vars: { server_name: example.com }
 *   listen: 127.0.0.1:8080   # built-in proxy mode
 *   routes: { web.example: /services/web, /api/: /services/api }
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDurationMs } from './duration.ts';
import { ReloaderConfigError } from './errors.ts';
import type { ResourceSpec } from './resource.ts';

/** The file's settings; every field optional (flags fill the rest). */
export interface FileConfig {
  store?: string[];
  wait?: string;
  maxRemoval?: number;
  removalGraceMs?: number;
  watch?: string[];
  templates: ResourceSpec[];
  listen?: string;
  routes: string[];
  balance?: string;
  healthPath?: string;
}

type Raw = Record<string, unknown>;

function asList(v: unknown, what: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v)) return v.map(String);
  throw new ReloaderConfigError(`${what}: expected a list`);
}

function resource(raw: Raw, i: number, base: string): ResourceSpec {
  const where = `templates[${i}]`;
  if (typeof raw.source !== 'string' || typeof raw.dest !== 'string') throw new ReloaderConfigError(`${where}: needs "source" and "dest"`);
  const mode = raw.mode ?? 'rename';
  if (mode !== 'rename' && mode !== 'inplace') throw new ReloaderConfigError(`${where}.mode: rename or inplace, got "${String(mode)}"`);
  const perms = raw.perms === undefined ? 0o644 : typeof raw.perms === 'number' ? raw.perms : parseInt(String(raw.perms), 8);
  if (!Number.isInteger(perms) || perms < 0 || perms > 0o7777) throw new ReloaderConfigError(`${where}.perms: an octal mode like "0644"`);
  return {
    source: resolve(base, raw.source),
    dest: resolve(base, raw.dest),
    check: raw.check === undefined ? undefined : String(raw.check),
    reload: raw.reload === undefined ? undefined : String(raw.reload),
    group: raw.group === undefined ? undefined : String(raw.group),
    mode,
    perms,
    commandTimeoutMs: parseDurationMs((raw.timeout as string | number | undefined) ?? '30s', `${where}.timeout`),
    vars: (raw.vars as Record<string, unknown> | undefined) ?? {},
  };
}

/** Parses config text; `base` is the directory relative paths start from. */
export function parseConfigText(text: string, base: string, name = 'config'): FileConfig {
  let raw: Raw;
  try {
    raw = (parseYaml(text) as Raw | null) ?? {};
  } catch (e) {
    throw new ReloaderConfigError(`${name}: not valid YAML or JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ReloaderConfigError(`${name}: expected a mapping at the top`);
  const templates = raw.templates ?? [];
  if (!Array.isArray(templates)) throw new ReloaderConfigError(`${name}: "templates" must be a list`);
  const routesRaw = raw.routes ?? {};
  const routes = Array.isArray(routesRaw) ? routesRaw.map(String) : Object.entries(routesRaw as Raw).map(([k, v]) => `${k}=${String(v)}`);
  const num = (v: unknown, what: string) => {
    if (v === undefined) return undefined;
    const n = Number(String(v).replace(/%$/, ''));
    if (!Number.isFinite(n)) throw new ReloaderConfigError(`${name}: ${what} must be a number`);
    return n;
  };
  return {
    store: asList(raw.store, 'store'),
    wait: raw.wait === undefined ? undefined : String(raw.wait),
    maxRemoval: num(raw['max-removal'], 'max-removal'),
    removalGraceMs: raw['removal-grace'] === undefined ? undefined : parseDurationMs(raw['removal-grace'] as string, 'removal-grace'),
    watch: asList(raw.watch, 'watch'),
    templates: templates.map((t: Raw, i: number) => resource(t, i, base)),
    listen: raw.listen === undefined ? undefined : String(raw.listen),
    routes,
    balance: raw.balance === undefined ? undefined : String(raw.balance),
    healthPath: raw['health-path'] === undefined ? undefined : String(raw['health-path']),
  };
}

/** Reads and parses the config file at `path`. */
export async function loadConfigFile(path: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ReloaderConfigError(`--config ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseConfigText(text, dirname(resolve(path)), path);
}
