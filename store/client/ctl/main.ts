/**
 * `berth ctl`: an etcdctl (v2)-style command line over the client library. Same commands,
 * flags, output formats, messages and exit codes as `ETCDCTL_API=2 etcdctl`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseConfig, formatHelp, type FlagSpec } from '../../../lib/config.ts';
import { ConfigError } from '../../../lib/errors.ts';
import { EtcdError, etcdErrorMessages } from '../../kv/errors.ts';
import { HttpKvBackend } from '../http-backend.ts';
import type { KvNode, KvResult } from '../kv-backend.ts';
import { formatResult, type OutputFormat } from './output.ts';
import { AUTH_COMMANDS, runAuthCommand } from './auth-commands.ts';

/** etcdctl's exit codes. */
const EXIT = { ok: 0, badArgs: 1, badConnection: 2, badAuth: 3, serverError: 4, clusterNotHealthy: 5 } as const;

const globalSpecs: FlagSpec[] = [
  { name: 'endpoints', type: 'list', default: ['http://127.0.0.1:2379'], help: 'comma-separated list of store endpoints', env: 'ETCDCTL_ENDPOINTS' },
  { name: 'output', short: 'o', type: 'enum', choices: ['simple', 'json', 'extended'], default: 'simple', help: 'output format', env: null },
  { name: 'timeout', type: 'string', default: '2s', help: 'request timeout (Go duration)', env: null },
  { name: 'total-timeout', type: 'string', default: '5s', help: 'timeout for the whole command', env: null },
  { name: 'no-sync', type: 'bool', default: false, help: 'do not sync the endpoint list with the cluster', env: null },
  { name: 'debug', type: 'bool', default: false, help: 'print request details', env: null },
  { name: 'cacert', type: 'string', default: undefined, help: 'verify servers with this CA bundle', env: 'ETCDCTL_CA_FILE' },
  { name: 'cert', type: 'string', default: undefined, help: 'client certificate', env: 'ETCDCTL_CERT_FILE' },
  { name: 'key', type: 'string', default: undefined, help: 'client key', env: 'ETCDCTL_KEY_FILE' },
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

interface Ctx {
  kv: HttpKvBackend;
  endpoints: string[];
  format: OutputFormat;
  out: (s: string) => void;
  err: (s: string) => void;
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
        if (flags.recursive && ev.action !== 'delete' && c.format === 'simple') c.out(`[${ev.action}] ${ev.node?.key}\n`);
        print(ev);
        if (!flags.forever) return EXIT.ok;
      }
      return EXIT.ok;
    }
    case 'exec-watch': {
      need(2, 'key and command to exec required');
      const command = args.slice(1).filter((a, i) => !(i === 0 && a === '--'));
      const after = flags.afterIndex ? Number(flags.afterIndex) : undefined;
      for await (const ev of c.kv.watch(key!, { recursive: !!flags.recursive, afterIndex: after })) {
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
  const request = async (path: string, init?: RequestInit) => {
    for (const ep of c.endpoints) {
      try {
        return await fetch(`${ep.replace(/\/$/, '')}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
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
      const res = await request('/v2/members', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ peerURLs: urls.split(',') }) });
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
  const res = await fetch(`${c.endpoints[0]!.replace(/\/$/, '')}/v2/members`).catch(() => null);
  if (!res) {
    c.err('cluster may be unhealthy: failed to list members\n');
    return EXIT.clusterNotHealthy;
  }
  const { members } = (await res.json()) as { members: MemberJSON[] };
  let healthy = 0;
  for (const m of members) {
    if (m.clientURLs.length === 0) {
      c.out(`member ${m.id} is unreachable: no available published client urls\n`);
      continue;
    }
    let ok = false;
    for (const url of m.clientURLs) {
      try {
        const h = (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).json()) as { health: string };
        if (h.health === 'true') {
          c.out(`member ${m.id} is healthy: got healthy result from ${url}\n`);
          ok = true;
          break;
        }
      } catch {
        /* try the next URL */
      }
    }
    if (ok) healthy++;
    else c.out(`member ${m.id} is unreachable: [${m.clientURLs.join(' ')}] are all unreachable\n`);
  }
  c.out(healthy === members.length ? 'cluster is healthy\n' : 'cluster is degraded\n');
  return healthy === members.length ? EXIT.ok : EXIT.clusterNotHealthy;
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  // Global flags come before the command, its own flags after it (etcdctl's layout).
  const cmdAt = argv.findIndex((a, i) => !a.startsWith('-') && !(i > 0 && /^(--endpoints|-o|--output|--timeout|--total-timeout|--cacert|--cert|--key|-u|--username)$/.test(argv[i - 1]!)));
  const globalArgs = cmdAt < 0 ? argv : argv.slice(0, cmdAt);
  const g = parseConfig<Record<string, unknown>>(globalSpecs, globalArgs, process.env, { allowPositionals: false });
  if (g.help || cmdAt < 0) {
    out(formatHelp(`usage: berth ctl [global flags] <command> [flags] [args]\ncommands: ${Object.keys(commandSpecs).join(', ')}`, globalSpecs) + '\n');
    return cmdAt < 0 && !g.help ? EXIT.badArgs : EXIT.ok;
  }
  const cmd = argv[cmdAt]!;
  if (AUTH_COMMANDS.has(cmd)) return runAuthCommand(cmd, argv.slice(cmdAt + 1), g.values, out, err);
  const specs = commandSpecs[cmd];
  if (!specs) {
    err(`berth ctl: unknown command "${cmd}"\n`);
    return EXIT.badArgs;
  }
  const dashdash = argv.indexOf('--', cmdAt);
  const cmdArgs = dashdash >= 0 ? argv.slice(cmdAt + 1, dashdash) : argv.slice(cmdAt + 1);
  const trailing = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const parsed = parseConfig<Record<string, unknown>>(specs, cmdArgs, {}, { allowPositionals: true });
  const v = g.values;
  const tls = v.cacert || v.cert ? { ca: v.cacert ? readFileSync(v.cacert as string) : undefined, cert: v.cert ? readFileSync(v.cert as string) : undefined, key: v.key ? readFileSync(v.key as string) : undefined } : undefined;
  const [username, password] = typeof v.username === 'string' ? (v.username as string).split(':') : [];
  const endpoints = v.endpoints as string[];
  const kv = new HttpKvBackend({ endpoints, timeoutMs: goDurationMs(v.timeout as string, '--timeout'), tls, auth: username ? { username, password: password ?? '' } : undefined });
  try {
    return await run(cmd, [...parsed.positionals, ...trailing], parsed.values, { kv, endpoints, format: v.output as OutputFormat, out, err });
  } catch (e) {
    if (e instanceof EtcdError) {
      err(etcdErrorLine(e) + '\n');
      return EXIT.serverError;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      err(`Error: ${e.message}\n`);
      return EXIT.badArgs;
    }
    err(`Error:  client: etcd cluster is unavailable or misconfigured; error #0: ${(e as Error).message}\n`);
    return EXIT.badConnection;
  } finally {
    await kv.close();
  }
}
