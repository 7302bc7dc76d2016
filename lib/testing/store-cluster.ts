/** Starts berth or etcd clusters as child processes on loopback, the same flags for both (berth takes etcd's names). Used by the benchmarks and by multi-process tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, retryOnPortInUse } from './ports.ts';
import { GiveUp, httpUp, startProcess, waitFor, type TestProcess } from './process.ts';

export type StoreKind = 'berth' | 'etcd';

export interface StoreMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: TestProcess;
  args: string[];
}

/** A store cluster on loopback started the same way for berth and etcd (berth takes etcd's flags). */
export interface StoreCluster {
  kind: StoreKind;
  members: StoreMember[];
  clientUrls: string[];
  leaderUrl(): Promise<string>;
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped member again on its data dir; resolves when it answers. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

const berthBin = resolve(import.meta.dirname, '../../bin/berth');

function command(kind: StoreKind): { cmd: string; pre: string[] } {
  return kind === 'etcd' ? { cmd: 'etcd', pre: ['--enable-v2', '--log-level', 'error'] } : { cmd: process.execPath, pre: [berthBin, 'store', '--log-level', 'warn'] };
}

export interface ClusterOptions {
  heartbeatMs?: number;
  electionMs?: number;
  snapshotCount?: number;
}

/**
 * Starts `size` members on fresh loopback ports. A free port can be taken by another process
 * between freePort() and the member's bind (other test runs share the machine), so a start that
 * fails on a port in use is tried again on new ports.
 */
export async function startCluster(kind: StoreKind, size: number, opts: ClusterOptions = {}): Promise<StoreCluster> {
  return retryOnPortInUse(() => startClusterOnce(kind, size, opts));
}

/** One berth and one etcd member side by side for differential tests, both stopped when `t` ends. */
export async function startBerthAndEtcd(t: { after(fn: () => Promise<void>): void }): Promise<{ berth: StoreCluster; etcd: StoreCluster }> {
  const [berth, etcd] = await Promise.all([startCluster('berth', 1), startCluster('etcd', 1)]);
  t.after(async () => {
    await berth.stop();
    await etcd.stop();
  });
  return { berth, etcd };
}

async function startClusterOnce(kind: StoreKind, size: number, opts: ClusterOptions): Promise<StoreCluster> {
  const specs = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `${kind}${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const { cmd, pre } = command(kind);
  const members: StoreMember[] = [];
  for (const s of specs) {
    const dataDir = await mkdtemp(join(tmpdir(), `bench-${s.name}-`));
    const args = [
      ...pre,
      '--name', s.name,
      '--data-dir', dataDir,
      '--listen-client-urls', s.clientUrl,
      '--advertise-client-urls', s.clientUrl,
      '--listen-peer-urls', s.peerUrl,
      '--initial-advertise-peer-urls', s.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--heartbeat-interval', String(opts.heartbeatMs ?? 100),
      '--election-timeout', String(opts.electionMs ?? 1000),
      '--snapshot-count', String(opts.snapshotCount ?? 10000),
    ];
    members.push({ ...s, dataDir, args, process: startProcess(cmd, args) });
  }
  const stop = async () => {
    await Promise.all(members.map((m) => m.process.stop()));
    await Promise.all(members.map((m) => rm(m.dataDir, { recursive: true, force: true })));
  };
  try {
    for (const m of members) {
      await waitFor(`${m.name} on ${m.clientUrl}`, async () => {
        if (m.process.child.exitCode !== null) throw new GiveUp(`${m.name} exited: ${m.process.output().slice(-2000)}`);
        return httpUp(`${m.clientUrl}/v2/keys/`);
      }, 30_000);
    }
    // A write proves a leader exists and the cluster commits.
    await waitFor(`${kind} cluster to accept a write`, async () => {
      const res = await fetch(`${members[0]!.clientUrl}/v2/keys/bench-ready`, { method: 'PUT', body: new URLSearchParams({ value: '1' }), signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status < 300;
    }, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    kind,
    members,
    clientUrls: members.map((m) => m.clientUrl),
    async leaderUrl() {
      for (const m of members) {
        if (m.process.child.exitCode !== null || m.process.child.signalCode !== null) continue;
        try {
          const res = await fetch(`${m.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(1000) });
          const body = (await res.json()) as { state?: string };
          if (body.state === 'StateLeader') return m.clientUrl;
        } catch {
          /* down or paused: ask the next */
        }
      }
      throw new Error(`no ${kind} member reports itself leader`);
    },
    async kill(name, signal = 'SIGKILL') {
      const m = members.find((x) => x.name === name);
      if (!m) throw new Error(`no member ${name}`);
      await m.process.stop(signal);
    },
    async restart(name) {
      const m = members.find((x) => x.name === name);
      if (!m) throw new Error(`no member ${name}`);
      m.process = startProcess(cmd, m.args);
      await waitFor(`${m.name} to come back`, async () => {
        if (m.process.child.exitCode !== null) throw new GiveUp(`${m.name} exited: ${m.process.output().slice(-2000)}`);
        return httpUp(`${m.clientUrl}/v2/keys/`);
      }, 600_000, 20);
    },
    stop,
  };
}
