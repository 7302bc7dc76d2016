import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../../../lib/testing/store-cluster.ts';
import { requireEtcd } from '../../../lib/testing/requirements.ts';
import { HttpKvBackend } from '../http-backend.ts';
import { runTool, startTool, type Tool, type ToolOutput } from './differential.ts';

/** Writes the same history under a prefix; returns the index before each step. */
async function history(kv: HttpKvBackend, p: string): Promise<Record<string, number>> {
  const at: Record<string, number> = {};
  const step = async (name: string, write: () => Promise<unknown>) => {
    at[name] = (await kv.get('/')).etcdIndex;
    await write();
  };
  await step('x1', () => kv.set(`${p}/w/x`, '1'));
  await step('mkdir', () => kv.set(`${p}/w/d`, '', { dir: true }));
  await step('x2', () => kv.set(`${p}/w/x`, '2'));
  await step('rm', () => kv.delete(`${p}/w/x`));
  await step('ttl', () => kv.set(`${p}/w/y`, '3', { ttl: 100 }));
  await step('deep', () => kv.set(`${p}/w/d/z`, '4'));
  return at;
}

/** Commands that end by themselves; `@name` is the index before history step `name`. */
const ONE_SHOT: string[][] = [
  ['watch', '--after-index', '@x1', '/c/w/x'],
  ['-o', 'extended', 'watch', '--after-index', '@x1', '/c/w/x'],
  ['-o', 'json', 'watch', '--after-index', '@x1', '/c/w/x'],
  ['watch', '-r', '--after-index', '@x1', '/c/w'],
  ['watch', '-r', '--after-index', '@mkdir', '/c/w'],
  ['watch', '--after-index', '@rm', '/c/w/x'],
  ['-o', 'extended', 'watch', '--after-index', '@rm', '/c/w/x'],
  ['-o', 'json', 'watch', '-r', '--after-index', '@rm', '/c/w'],
  ['-o', 'extended', 'watch', '-r', '--after-index', '@ttl', '/c/w'],
  ['-o', 'json', 'ls', '/c/w'],
  ['-o', 'extended', 'ls', '/c/w'],
  ['-o', 'json', 'ls', '-r', '--sort', '/c/w'],
  ['-o', 'extended', 'ls', '/c/w/y'],
  ['ls', '-p', '--sort', '/c/w'],
  ['watch'],
  ['exec-watch', '/c/w/x'],
  ['-o', 'json', 'get', '/c/w/y'],
  ['mk', '--in-order', '/c/q', 'job1'],
  ['-o', 'json', 'mk', '--in-order', '/c/q', 'job2'],
  ['ls', '--sort', '/c/q'],
  ['rmdir', '/c/w/d'],
  ['rm', '--dir', '/c/w/d'],
  ['-o', 'extended', 'rm', '-r', '/c/w/d'],
  ['-o', 'extended', 'update', '--ttl', '50', '/c/w/y', '5'],
  ['get', '/c/w'],
  ['--debug', 'set', '/c/dbg', '1'],
  ['--debug', '--no-sync', 'rm', '/c/dbg'],
];

function resolveArgs(cmd: string[], prefix: string, at: Record<string, number>): string[] {
  return cmd.map((a) => (a.startsWith('@') ? String(at[a.slice(1)]) : a.replace(/^\/c(\/|$)/, `${prefix}$1`)));
}

const same = (ours: ToolOutput, theirs: ToolOutput) => JSON.parse(JSON.stringify(theirs).replaceAll('/theirs', '/ours')) as ToolOutput;

/**
 * etcd lists a directory's children in Go map order unless asked to sort, so two runs of an
 * unsorted `ls` may differ in order alone: compare those with the children sorted.
 */
function orderFree(cmd: string[], out: ToolOutput): ToolOutput {
  if (!cmd.includes('ls') || cmd.includes('--sort')) return out;
  const byKey = (n: { key: string; nodes?: unknown[] | null }): unknown => ({ ...n, nodes: n.nodes ? (n.nodes as { key: string }[]).map(byKey).sort((a, b) => ((a as { key: string }).key < (b as { key: string }).key ? -1 : 1)) : n.nodes });
  if (cmd.includes('json')) {
    // Outputs arrive with indexes masked as a bare N (not JSON): zero them for the parse.
    const body = JSON.parse(out.stdout.replace(/:N(?=[,}])/g, ':0')) as { node: { key: string; nodes?: unknown[] | null } };
    return { ...out, stdout: `${JSON.stringify({ ...body, node: byKey(body.node) })}\n` };
  }
  return { ...out, stdout: out.stdout.split('\n').sort().join('\n') };
}

async function compareOneShots(endpoint: string, store: string): Promise<void> {
  const kv = new HttpKvBackend({ endpoints: [endpoint] });
  const ours = await history(kv, '/ours');
  const theirs = await history(kv, '/theirs');
  await kv.close();
  for (const cmd of ONE_SHOT) {
    const b = runTool('berth', ['--endpoints', endpoint, ...resolveArgs(cmd, '/ours', ours)]);
    const e = runTool('etcdctl', ['--endpoints', endpoint, ...resolveArgs(cmd, '/theirs', theirs)]);
    assert.deepEqual(orderFree(cmd, b), orderFree(cmd, same(b, e)), `${store}: ${cmd.join(' ')}`);
  }
}

/**
 * Starts a live watch with each tool and proves it is listening by writing probes until it
 * reacts; then writes the same events and returns what each printed after the last probe.
 */
async function liveWatch(endpoint: string, tool: Tool, prefix: string, args: (p: string) => string[], probeKey: string, events: (kv: HttpKvBackend, p: string) => Promise<void>, done: (stdout: string) => boolean): Promise<ToolOutput> {
  const kv = new HttpKvBackend({ endpoints: [endpoint] });
  const run = startTool(tool, ['--endpoints', endpoint, ...args(prefix)]);
  try {
    for (let i = 0; !run.output().stdout.includes('probe'); i++) {
      assert.ok(i < 100, `${tool} never reacted to a probe: ${JSON.stringify(run.output())}`);
      await kv.set(`${prefix}${probeKey}`, `probe${i}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 200));
    const skip = run.output().stdout.length;
    await events(kv, prefix);
    await run.waitFor(done);
    const out = await run.kill();
    return { code: null, stdout: out.stdout.slice(skip), stderr: out.stderr.replace(/^Ignored dir \S+\/probe\S* change\n/gm, '') };
  } finally {
    await run.kill();
    await kv.close();
  }
}

const SHOW = 'echo "A=$ETCD_WATCH_ACTION K=$ETCD_WATCH_KEY V=$ETCD_WATCH_VALUE I=$ETCD_WATCH_MODIFIED_INDEX"';
const LIVE: { name: string; args: (p: string) => string[]; probeKey: string; events: (kv: HttpKvBackend, p: string) => Promise<void>; done: (s: string) => boolean }[] = [
  {
    name: 'watch --forever -r',
    args: (p) => ['-o', 'extended', 'watch', '--forever', '-r', `${p}/live`],
    probeKey: '/live/probe',
    events: async (kv, p) => {
      await kv.set(`${p}/live/a`, 'one');
      await kv.set(`${p}/live/dir`, '', { dir: true });
      await kv.set(`${p}/live/a`, 'two', { prevValue: 'one' });
      await kv.delete(`${p}/live/a`);
      await kv.set(`${p}/live/end`, 'end');
    },
    done: (s) => /\nend\n/.test(s),
  },
  {
    name: 'exec-watch <command> <key>',
    args: (p) => ['exec-watch', 'sh', '-c', SHOW, `${p}/ex/k`],
    probeKey: '/ex/k',
    events: async (kv, p) => {
      await kv.set(`${p}/ex/k`, 'one');
      await kv.delete(`${p}/ex/k`);
      await kv.set(`${p}/ex/k`, 'end');
    },
    done: (s) => s.includes('V=end'),
  },
  {
    name: 'exec-watch -r <key> -- <command>',
    args: (p) => ['exec-watch', '-r', `${p}/exr`, '--', 'sh', '-c', SHOW],
    probeKey: '/exr/probe',
    events: async (kv, p) => {
      await kv.set(`${p}/exr/dir`, '', { dir: true });
      await kv.set(`${p}/exr/dir/k`, 'one');
      await kv.set(`${p}/exr/end`, 'end');
    },
    done: (s) => s.includes('V=end'),
  },
];

for (const store of ['etcd', 'berth'] as const) {
  test(`berth ctl and etcdctl print the same for ${ONE_SHOT.length} watch/ls/usage commands and ${LIVE.length} live watches against ${store}`, { timeout: 150_000 }, async (t) => {
    if (!requireEtcd(t)) return;
    const cluster = await startCluster(store, 1);
    t.after(() => cluster.stop());
    const endpoint = cluster.clientUrls[0]!;
    await compareOneShots(endpoint, store);
    for (const live of LIVE) {
      // Exec'd commands may print in any order (etcdctl starts them concurrently): compare sorted.
      const sort = (o: ToolOutput) => (live.name.startsWith('exec') ? { ...o, stdout: o.stdout.split('\n').sort().join('\n') } : o);
      const [b, e] = await Promise.all([
        liveWatch(endpoint, 'berth', '/ours', live.args, live.probeKey, live.events, live.done),
        liveWatch(endpoint, 'etcdctl', '/theirs', live.args, live.probeKey, live.events, live.done),
      ]);
      assert.deepEqual(sort(b), sort(same(b, e)), `${store}: ${live.name}`);
    }
  });
}
