/**
 * Routes of the built-in proxy: `web.example=/services/web` matches the Host header (without
 * port, case-insensitive); `/api/=/services/api` matches a path prefix. Host routes are tried
 * first, then the longest matching prefix.
 */
import { ReloaderConfigError } from './errors.ts';
import { normalizeDir } from './services.ts';

export interface Route {
  /** As written, for logs and /status. */
  readonly raw: string;
  readonly host?: string;
  readonly prefix?: string;
  /** The service directory whose upstreams serve this route. */
  readonly serviceDir: string;
}

/** Parses `host=/services/x` or `/prefix/=/services/y`. */
export function parseRoute(raw: string): Route {
  const eq = raw.lastIndexOf('=');
  if (eq <= 0 || eq === raw.length - 1) throw new ReloaderConfigError(`--route ${raw}: expected host=/services/name or /prefix/=/services/name`);
  const match = raw.slice(0, eq).trim();
  const dir = raw.slice(eq + 1).trim();
  if (!dir.startsWith('/')) throw new ReloaderConfigError(`--route ${raw}: the service directory must start with / (like /services/web)`);
  const serviceDir = normalizeDir(dir);
  if (match.startsWith('/')) return { raw, prefix: match, serviceDir };
  if (!/^[a-z0-9.*-]+(:\d+)?$/i.test(match)) throw new ReloaderConfigError(`--route ${raw}: "${match}" is neither a host name nor a /path prefix`);
  return { raw, host: match.toLowerCase().replace(/:\d+$/, ''), serviceDir };
}

/** Finds the route for a request, or undefined. */
export class RouteTable {
  private readonly byHost = new Map<string, Route>();
  private readonly prefixes: Route[];

  constructor(readonly routes: readonly Route[]) {
    for (const r of routes) if (r.host) this.byHost.set(r.host, r);
    this.prefixes = routes.filter((r) => r.prefix).sort((a, b) => b.prefix!.length - a.prefix!.length);
  }

  match(hostHeader: string | undefined, path: string): Route | undefined {
    if (hostHeader) {
      const host = hostHeader.toLowerCase().replace(/:\d+$/, '');
      const r = this.byHost.get(host);
      if (r) return r;
    }
    return this.prefixes.find((r) => path.startsWith(r.prefix!));
  }

  /** Every service directory some route uses. */
  serviceDirs(): string[] {
    return [...new Set(this.routes.map((r) => r.serviceDir))];
  }
}
