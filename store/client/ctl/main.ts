/**
 * `berth ctl`: an etcdctl (v2)-style command line over the client library. Same commands,
 * flags, output formats, messages and exit codes as `ETCDCTL_API=2 etcdctl`.
 */
import { spawn } from 'node:child_process';
import { parseConfig, formatHelp, type FlagSpec } from '../../../lib/config.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { EtcdError, etcdErrorMessages } from '../../kv/errors.ts';
import { HttpKvBackend } from '../http-backend.ts';
import type { KvNode, KvResult } from '../kv-backend.ts';
import { formatResult, type OutputFormat } from './output.ts';
import { AUTH_COMMANDS, runAuthCommand } from './auth-commands.ts';
import { clusterErrorReport, credentials, curlLine, plainRequest, syncEndpoints, tlsFiles, type FetchInit } from './request.ts';

/** etcdctl's exit codes. */
const EXIT = { ok: 0, badArgs: 1, badConnection: 2, badAuth: 3, serverError: 4, clusterNotHealthy: 5 } as const;

const globalSpecs: FlagSpec[] = [
  { name: 'endpoints', type: 'list', default: ['http://127.0.0.1:2379'], help: 'comma-separated list of store endpoints', env: 'ETCDCTL_ENDPOINTS' },
  { name: 'peers', short: 'C', type: 'list', default: undefined, help: 'DEPRECATED - "--endpoints" should be used instead', env: 'ETCDCTL_PEERS' },
  { name: 'endpoint', type: 'list', default: undefined, help: 'DEPRECATED - "--endpoints" should be used instead', env: 'ETCDCTL_ENDPOINT' },
  { name: 'output', short: 'o', type: 'enum', choices: ['simple', 'json', 'extended'], default: 'simple', help: 'output format', env: null },
  { name: 'timeout', type: 'string', default: '2s', help: 'request timeout (Go duration)', env: null },
  { name: 'total-timeout', type: 'string', default: '5s', help: 'timeout for the whole command', env: null },
  { name: 'no-sync', type: 'bool', default: false, help: 'do not sync the endpoint list with the cluster', env: null },
  { name: 'debug', type: 'bool', default: false, help: 'print the requests as curl commands (on stderr)', env: null },
  { name: 'ca-file', type: 'string', default: undefined, help: 'verify certificates of HTTPS-enabled servers using this CA bundle', env: 'ETCDCTL_CA_FILE' },
  { name: 'cert-file', type: 'string', default: undefined, help: 'identify HTTPS client using this SSL certificate file', env: 'ETCDCTL_CERT_FILE' },
  { name: 'key-file', type: 'string', default: undefined, help: 'identify HTTPS client using this SSL key file', env: 'ETCDCTL_KEY_FILE' },
  { name: 'cacert', type: 'string', default: undefined, help: 'same as --ca-file (etcdctl v3 name)', env: null },
  { name: 'cert', type: 'string', default: undefined, help: 'same as --cert-file (etcdctl v3 name)', env: null },
  { name: 'key', type: 'string', default: undefined, help: 'same as --key-file (etcdctl v3 name)', env: null },
  { name: 'username', short: 'u', type: 'string', default: undefined, help: 'user:password for basic auth', env: 'ETCDCTL_USERNAME' },
];

const commandSpecs: Record<string, FlagSpec[]> = {
  get: [{ name: 'sort', type: 'bool', default: false, help: 'sort', env: null }, { name: 'quorum', type: 'bool', default: false, help: 'linearizable read', env: null }],
  set: [{ name: 'ttl', type: 'int', default: 0, min: 0, help: 'key time-to-live in seconds', env: null }, { name: 'swap-with-value', type: 'string', default: '', help: 'previous value', env: null }, { name: 'swap-with-index', type: 'int', default: 0, min: 0, help: 'previous index', env: null }],
  mk: [{ name: 'ttl', type: 'int', default: 0, min: 0, help: 'key time-to-live in seconds', env: null }, { name: 'in-order', type: 'bool', default: false, help: 'create in-order key under the directory', env: null }],
  mkdir: [{ name: 'ttl', type: 'int', default: 0, min: 0, help: 'key time-to-live in seconds', env: null }],
  setdir: [{ name: 'ttl', type: 'int', default: 0, min: 0, help: 'key time-to-live in seconds', env: null }],
  update: [{ name: 'ttl', type: 'int', default: 0, min: 0, help: 'key time-to-live in seconds', env: null }],
  updatedir: [{ name: 'ttl', type: 'int', default: 0, min: 0, help: 'key time-to-live in seconds', env: null }],
  rm: [{ name: 'dir', type: 'bool', default: false, help: 'removes the key if it is an empty directory or a key-value pair', env: null }, { name: 'recursive', short: 'r', type: 'bool', default: false, help: 'removes the key and all child keys', env: null }, { name: 'with-value', type: 'string', default: '', help: 'previous value', env: null }, { name: 'with-index', type: 'int', default: 0, min: 0, help: 'previous index', env: null }],
  rmdir: [],
  ls: [{ name: 'sort', type: 'bool', default: false, help: 'returns result in sorted order', env: null }, { name: 'recursive', short: 'r', type: 'bool', default: false, help: 'returns all key names recursively', env: null }, { name: 'p', short: 'p', type: 'bool', default: false, help: 'append slash (/) to directories', env: null }, { name: 'quorum', type: 'bool', default: false, help: 'linearizable read', env: null }],
  watch: [{ name: 'forever', short: 'f', type: 'bool', default: false, help: 'forever watch a key until CTRL+C', env: null }, { name: 'after-index', type: 'int', default: 0, min: 0, help: 'watch after the given index', env: null }, { name: 'recursive', short: 'r', type: 'bool', default: false, help: 'returns all values for key and child keys', env: null }],
  'exec-watch': [{ name: 'after-index', type: 'int', default: 0, min: 0, help: 'watch after the given index', env: null }, { name: 'recursive', short: 'r', type: 'bool', default: false, help: 'watch all values for key and child keys', env: null }],
  member: [],
  'cluster-health': [{ name: 'forever', short: 'f', type: 'bool', default: false, help: 'keep checking every 10 seconds', env: null }],
};

class UsageError extends Error {}
/** --total-timeout ran out. */
class TotalTimeout extends Error {}

interface Ctx {
  kv: HttpKvBackend;
  endpoints: string[];
  format: OutputFormat;
  out: (s: string) => void;
  err: (s: string) => void;
  /** A `--` separated the command's arguments (exec-watch: key before it, command after). */
  dashdash: boolean;
  /** TLS and auth for the plain fetches (members, health). */
  fetchInit: FetchInit;
}

function etcdErrorLine(e: EtcdError): string {
  return `Error:  ${e.errorCode}: ${etcdErrorMessages[e.errorCode] ?? e.message} (${e.etcdCause}) [${e.index}]`;
}

function goDurationMs(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(s);
  if (!m) throw new ConfigError(flag, `expected a duration like 2s or 500ms, got "${s}"`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

function listKeys(nodes: KvNode[] | undefined, recursive: boolean, slash: boolean, sort: boolean, out: string[]): void {
  const list = [...(nodes ?? [])];
  if (sort) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const n of list) {
    out.push(n.dir && slash ? `${n.key}/` : n.key);
    if (n.dir && recursive) listKeys(n.nodes, recursive, slash, sort, out);
  }
}

async function run(cmd: string, args: string[], flags: Record<string, unknown>, c: Ctx): Promise<number> {
  const key = args[0];
  const need = (n: number, usage: string) => {
    if (args.length < n) throw new UsageError(usage);
  };
  const print = (r: KvResult, always = true) => {
    if (always || c.format !== 'simple') c.out(formatResult(r, c.format));
  };
  const ttl = flags.ttl ? Number(flags.ttl) : undefined;
  switch (cmd) {
    case 'get': {
      need(1, 'key required');
      const r = await c.kv.get(key!, { sorted: !!flags.sort, quorum: !!flags.quorum });
      if (r.node?.dir) {
        c.err(`${r.node.key}: is a directory\n`);
        return EXIT.badArgs;
      }
      print(r);
      return EXIT.ok;
    }
    case 'set': {
      need(2, 'key and value required');
      print(await c.kv.set(key!, args[1]!, { ttl, prevValue: (flags.swapWithValue as string) || undefined, prevIndex: (flags.swapWithIndex as number) || undefined }));
      return EXIT.ok;
    }
    case 'mk': {
      need(2, 'key and value required');
      if (flags.inOrder) print(await c.kv.createInOrder(key!, args[1]!, { ttl }));
      else print(await c.kv.set(key!, args[1]!, { ttl, prevExist: false }));
      return EXIT.ok;
    }
    case 'mkdir':
      need(1, 'key required');
      print(await c.kv.set(key!, '', { dir: true, ttl, prevExist: false }), false);
      return EXIT.ok;
    case 'setdir':
      need(1, 'key required');
      print(await c.kv.set(key!, '', { dir: true, ttl }), false);
      return EXIT.ok;
    case 'update':
      need(2, 'key and value required');
      print(await c.kv.set(key!, args[1]!, { ttl, prevExist: true }));
      return EXIT.ok;
    case 'updatedir':
      need(1, 'key required');
      print(await c.kv.set(key!, '', { dir: true, ttl: ttl ?? null, prevExist: true }), false);
      return EXIT.ok;
    case 'rm': {
      need(1, 'key required');
      const r = await c.kv.delete(key!, { dir: !!flags.dir, recursive: !!flags.recursive, prevValue: (flags.withValue as string) || undefined, prevIndex: (flags.withIndex as number) || undefined });
      print(r, !r.node?.dir);
      return EXIT.ok;
    }
    case 'rmdir':
      need(1, 'key required');
      print(await c.kv.delete(key!, { dir: true }), false);
      return EXIT.ok;
    case 'ls': {
      const r = await c.kv.get(key ?? '/', { recursive: !!flags.recursive, sorted: !!flags.sort, quorum: !!flags.quorum });
      if (c.format !== 'simple') {
        print(r);
        return EXIT.ok;
      }
      const lines: string[] = [];
      if (r.node?.dir) listKeys(r.node.nodes, !!flags.recursive, !!flags.p, !!flags.sort, lines);
      else if (r.node) lines.push(r.node.key);
      if (lines.length) c.out(lines.join('\n') + '\n');
      return EXIT.ok;
    }
    case 'watch': {
      need(1, 'key required');
      const after = flags.afterIndex ? Number(flags.afterIndex) : undefined;
      for await (const ev of c.kv.watch(key!, { recursive: !!flags.recursive, afterIndex: after })) {
        if (ev.node?.dir) continue;
        if (flags.recursive) c.out(`[${ev.action}] ${ev.node?.key}\n`);
        print(ev);
        if (!flags.forever) return EXIT.ok;
      }
      return EXIT.ok;
    }
    case 'exec-watch': {
      need(2, 'key and command to exec required');
      // `exec-watch <key> -- <command...>`, or etcdctl's other form `exec-watch <command...> <key>`.
      const [watched, command] = c.dashdash ? [key!, args.slice(1)] : [args[args.length - 1]!, args.slice(0, -1)];
      // etcdctl adds one to --after-index here (unlike watch); scripts written for it expect that.
      const after = flags.afterIndex ? Number(flags.afterIndex) + 1 : undefined;
      for await (const ev of c.kv.watch(watched, { recursive: !!flags.recursive, afterIndex: after })) {
        if (ev.node?.dir) {
          c.err(`Ignored dir ${ev.node.key} change\n`);
          continue;
        }
        const env = { ...process.env, ETCD_WATCH_ACTION: ev.action, ETCD_WATCH_KEY: ev.node?.key ?? '', ETCD_WATCH_VALUE: ev.node?.value ?? '', ETCD_WATCH_MODIFIED_INDEX: String(ev.node?.modifiedIndex ?? 0) };
        spawn(command[0]!, command.slice(1), { env, stdio: 'inherit' }).on('error', (e) => c.err(`exec error: ${e.message}\n`));
      }
      return EXIT.ok;
    }
    case 'member':
      return member(args, c);
    case 'cluster-health':
      return clusterHealth(c);
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

interface MemberJSON {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

async function member(args: string[], c: Ctx): Promise<number> {
  const [sub, ...rest] = args;
  const base = c.endpoints[0]!.replace(/\/$/, '');
  const request = async (path: string, init?: { method?: string; json?: unknown }) => {
    for (const ep of c.endpoints) {
      try {
        const res = await plainRequest(`${ep.replace(/\/$/, '')}${path}`, c.fetchInit, init);
        return { status: res.status, json: async () => JSON.parse(res.body) as unknown };
      } catch {
        /* next endpoint */
      }
    }
    throw new Error(`client: etcd cluster is unavailable or misconfigured; error #0: dial ${base}: connection refused`);
  };
  const list = async () => ((await (await request('/v2/members')).json()) as { members: MemberJSON[] }).members;
  switch (sub) {
    case 'list': {
      const members = await list();
      let leader = '';
      try {
        leader = ((await (await request('/v2/members/leader')).json()) as MemberJSON).id;
      } catch {
        /* during an election */
      }
      for (const m of members) {
        if (!m.name) c.out(`${m.id}[unstarted]: peerURLs=${m.peerURLs.join(',')}\n`);
        else c.out(`${m.id}: name=${m.name} peerURLs=${m.peerURLs.join(',')} clientURLs=${m.clientURLs.join(',')} isLeader=${m.id === leader}\n`);
      }
      return EXIT.ok;
    }
    case 'add': {
      if (rest.length < 2) throw new UsageError('member add needs a name and a peer URL');
      const [name, urls] = rest as [string, string];
      const res = await request('/v2/members', { method: 'POST', json: { peerURLs: urls.split(',') } });
      const body = (await res.json()) as MemberJSON & { message?: string };
      if (res.status !== 201) {
        c.err(`Error:  ${body.message ?? `HTTP ${res.status}`}\n`);
        return EXIT.serverError;
      }
      const all = await list();
      const conf = all.map((m) => (m.id === body.id ? `${name}=${m.peerURLs[0]}` : m.name ? `${m.name}=${m.peerURLs[0]}` : '')).filter(Boolean);
      c.out(`Added member named ${name} with ID ${body.id} to cluster\n\nETCD_NAME="${name}"\nETCD_INITIAL_CLUSTER="${conf.join(',')}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n`);
      return EXIT.ok;
    }
    case 'remove': {
      if (rest.length < 1) throw new UsageError('member remove needs a member id');
      const res = await request(`/v2/members/${rest[0]}`, { method: 'DELETE' });
      if (res.status !== 204) {
        c.err(`Received an error trying to remove member ${rest[0]}: unexpected status code ${res.status}\n`);
        return EXIT.serverError;
      }
      c.out(`Removed member ${rest[0]} from cluster\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError('member needs list, add or remove');
  }
}

async function clusterHealth(c: Ctx): Promise<number> {
  let members: MemberJSON[];
  try {
    const res = await plainRequest(`${c.endpoints[0]!.replace(/\/$/, '')}/v2/members`, c.fetchInit);
    members = (JSON.parse(res.body) as { members: MemberJSON[] }).members;
  } catch (e) {
    c.out('cluster may be unhealthy: failed to list members\n');
    const report = await clusterErrorReport(c.endpoints.slice(0, 1), c.fetchInit);
    if (!report) throw e;
    c.err(report.text);
    return EXIT.serverError;
  }
  let healthy = 0;
  for (const m of members) {
    if (m.clientURLs.length === 0) {
      c.out(`member ${m.id} is unreachable: no available published client urls\n`);
      continue;
    }
    if (await memberHealth(m, c)) healthy++;
  }
  c.out(healthy === members.length ? 'cluster is healthy\n' : healthy === 0 ? 'cluster is unavailable\n' : 'cluster is degraded\n');
  return healthy === members.length ? EXIT.ok : EXIT.clusterNotHealthy;
}

/** Asks each client URL of a member for /health until one answers; prints what etcdctl prints. */
async function memberHealth(m: MemberJSON, c: Ctx): Promise<boolean> {
  for (const url of m.clientURLs) {
    let health: { health?: string | boolean };
    try {
      health = JSON.parse((await plainRequest(`${url}/health`, c.fetchInit, { timeoutMs: 2000 })).body) as typeof health;
    } catch (e) {
      c.out(`failed to check the health of member ${m.id} on ${url}: ${(e as Error).message}\n`);
      continue;
    }
    const ok = health.health === 'true' || health.health === true;
    c.out(ok ? `member ${m.id} is healthy: got healthy result from ${url}\n` : `member ${m.id} is unhealthy: got unhealthy result from ${url}\n`);
    return ok;
  }
  c.out(`member ${m.id} is unreachable: [${m.clientURLs.join(' ')}] are all unreachable\n`);
  return false;
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  // Global flags come before the command, its own flags after it (etcdctl's layout).
  const cmdAt = argv.findIndex((a, i) => !a.startsWith('-') && !(i > 0 && /^(--endpoints|--endpoint|--peers|-C|-o|--output|--timeout|--total-timeout|--cacert|--cert|--key|--ca-file|--cert-file|--key-file|-u|--username)$/.test(argv[i - 1]!)));
  const globalArgs = cmdAt < 0 ? argv : argv.slice(0, cmdAt);
  if (cmdAt < 0 && (argv.includes('--version') || argv.includes('-v'))) {
    const { BERTH_VERSION } = await import('../../../lib/version.ts');
    out(`berth ctl version: ${BERTH_VERSION}\nAPI version: 2\n`);
    return EXIT.ok;
  }
  const g = parseConfig<Record<string, unknown>>(globalSpecs, globalArgs, process.env, { allowPositionals: false });
  if (g.help || cmdAt < 0) {
    out(formatHelp(`usage: berth ctl [global flags] <command> [flags] [args]\ncommands: ${Object.keys(commandSpecs).join(', ')}`, globalSpecs) + '\n');
    return cmdAt < 0 && !g.help ? EXIT.badArgs : EXIT.ok;
  }
  const cmd = argv[cmdAt]!;
  const specs = commandSpecs[cmd];
  if (!specs && !AUTH_COMMANDS.has(cmd)) {
    err(`berth ctl: unknown command "${cmd}"\n`);
    return EXIT.badArgs;
  }
  const v = g.values;
  const endpoints = (v.peers ?? v.endpoint ?? v.endpoints) as string[];
  const timeoutMs = goDurationMs(v.timeout as string, '--timeout');
  const fetchInit: FetchInit = { ...tlsFiles(v), auth: await credentials(v.username as string | undefined) };
  if (!specs) return runAuthCommand(cmd, argv.slice(cmdAt + 1), { endpoints, init: fetchInit, timeoutMs }, out, err);
  const dashdash = argv.indexOf('--', cmdAt);
  let cmdArgs = dashdash >= 0 ? argv.slice(cmdAt + 1, dashdash) : argv.slice(cmdAt + 1);
  let trailing = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  if (cmd === 'exec-watch') {
    // The exec'd command's own flags (`sh -c ...`) are not ours: options end at the first argument.
    const first = cmdArgs.findIndex((a, i) => !a.startsWith('-') && cmdArgs[i - 1] !== '--after-index');
    if (first >= 0) [cmdArgs, trailing] = [cmdArgs.slice(0, first), [...cmdArgs.slice(first), ...trailing]];
  }
  const parsed = parseConfig<Record<string, unknown>>(specs, cmdArgs, {}, { allowPositionals: true });
  const debug = v.debug ? (line: string) => err(line + '\n') : undefined;
  const keyEndpoints = v.noSync || cmd === 'member' || cmd === 'cluster-health' ? endpoints : await syncEndpoints(endpoints, fetchInit, timeoutMs, debug);
  if (keyEndpoints === endpoints && !v.noSync && cmd !== 'member' && cmd !== 'cluster-health') {
    // etcdctl stops with exit code 2 when the sync cannot connect to any endpoint.
    const unreachable = await clusterErrorReport(endpoints, fetchInit, timeoutMs);
    if (unreachable?.code === EXIT.badConnection) {
      err(unreachable.text);
      return EXIT.badConnection;
    }
  }
  debug?.(`Cluster-Endpoints: ${keyEndpoints.join(', ')}`);
  const onRequest = debug ? (method: string, url: string, body: string | undefined) => debug(curlLine(method, url, body)) : undefined;
  const kv = new HttpKvBackend({ endpoints: keyEndpoints, timeoutMs, tls: tlsFiles(v), auth: fetchInit.auth, onRequest });
  // Like etcdctl, the whole command (except watches) gives up after --total-timeout.
  const totalMs = cmd === 'watch' || cmd === 'exec-watch' ? null : goDurationMs(v.totalTimeout as string, '--total-timeout');
  let timer: NodeJS.Timeout | undefined;
  try {
    const command = run(cmd, [...parsed.positionals, ...trailing], parsed.values, { kv, endpoints, format: v.output as OutputFormat, out, err, dashdash: dashdash >= 0, fetchInit });
    if (totalMs === null) return await command;
    const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TotalTimeout()), totalMs)));
    return await Promise.race([command, expired]);
  } catch (e) {
    if (e instanceof TotalTimeout) {
      const report = await clusterErrorReport(keyEndpoints, fetchInit, timeoutMs);
      err(report?.text ?? 'Error:  context deadline exceeded\n');
      return EXIT.serverError;
    }
    if (e instanceof EtcdError) {
      err(etcdErrorLine(e) + '\n');
      return EXIT.serverError;
    }
    if (e instanceof UsageError) {
      err(`Error:  ${e.message}\n`);
      return EXIT.badArgs;
    }
    if (e instanceof ConfigError) {
      err(`Error: ${e.message}\n`);
      return EXIT.badArgs;
    }
    const report = await clusterErrorReport(keyEndpoints, fetchInit, timeoutMs);
    if (report) {
      err(report.text);
      // Past the sync, etcdctl exits 4 for any failed request, connection errors included.
      return EXIT.serverError;
    }
    err(`Error:  client: etcd cluster is unavailable or misconfigured; error #0: ${(e as Error).message}\n`);
    return EXIT.badConnection;
  } finally {
    clearTimeout(timer);
    await kv.close();
  }
}
