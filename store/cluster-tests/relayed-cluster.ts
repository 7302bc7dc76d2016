import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, retryOnPortInUse } from '../../lib/testing/ports.ts';
import { GiveUp, httpUp, startProcess, waitFor, type TestProcess } from '../../lib/testing/process.ts';
import { PeerRelay } from './relay.ts';

export interface RelayedMember {
  name: string;
  id: number;
  clientUrl: string;
  peerPort: number;
  relay: PeerRelay;
  dataDir: string;
  args: string[];
  process: TestProcess;
  /** Not killed (it may be paused). */
  alive: boolean;
  paused: boolean;
}

const berth = resolve(import.meta.dirname, '../../bin/berth');

export interface RelayedClusterOptions {
  heartbeatMs?: number;
  electionMs?: number;
  snapshotCount?: number;
}

/**
 * `berth store` members as child processes on loopback, each behind a PeerRelay so tests can
 * partition exactly the links they name.
 */
export class RelayedCluster {
  readonly members: RelayedMember[] = [];

  /**
   * Starts `size` members behind relays. Every port comes from freePort() (distinct within this
   * process); another process can still take one before the member binds it, so a start that
   * fails on a port in use is tried again on new ports.
   */
  static async start(size: number, opts: RelayedClusterOptions = {}): Promise<RelayedCluster> {
    return retryOnPortInUse(() => RelayedCluster.startOnce(size, opts));
  }

  private static async startOnce(size: number, opts: RelayedClusterOptions): Promise<RelayedCluster> {
    const c = new RelayedCluster();
    const specs: { name: string; clientUrl: string; peerPort: number; relay: PeerRelay }[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const peerPort = await freePort();
        const relay = new PeerRelay(peerPort);
        await relay.start(await freePort());
        specs.push({ name: `m${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerPort, relay });
      }
    } catch (e) {
      await Promise.all(specs.map((s) => s.relay.stop()));
      throw e;
    }
    const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.relay.port}`).join(',');
    for (const s of specs) {
      const dataDir = await mkdtemp(join(tmpdir(), `berth-nemesis-${s.name}-`));
      const args = [berth, 'store', '--log-level', 'warn', '--name', s.name, '--data-dir', dataDir, '--listen-client-urls', s.clientUrl, '--listen-peer-urls', `http://127.0.0.1:${s.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${s.relay.port}`, '--initial-cluster', initialCluster, '--heartbeat-interval', String(opts.heartbeatMs ?? 50), '--election-timeout', String(opts.electionMs ?? 500), '--snapshot-count', String(opts.snapshotCount ?? 10000)];
      c.members.push({ ...s, id: 0, dataDir, args, process: startProcess(process.execPath, args), alive: true, paused: false });
    }
    try {
      // Every poll looks at every member: one that exited (say, on a port taken meanwhile) fails
      // the start at once, with its reason, instead of leaving the others waiting for a quorum.
      await waitFor('every member to answer', async () => {
        const exited = c.members.find((m) => m.process.child.exitCode !== null);
        if (exited) throw new GiveUp(`${exited.name} exited: ${exited.process.output().slice(-2000)}`);
        return (await Promise.all(c.members.map((m) => httpUp(`${m.clientUrl}/health`)))).every(Boolean);
      }, 30_000);
      const res = await fetch(`${c.members[0]!.clientUrl}/v2/members`);
      const { members } = (await res.json()) as { members: { id: string; name: string }[] };
      for (const m of c.members) m.id = parseInt(members.find((x) => x.name === m.name)!.id, 16);
      await c.leader(20_000);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private async waitUp(m: RelayedMember): Promise<void> {
    await waitFor(`${m.name} to answer`, async () => {
      if (m.process.child.exitCode !== null) throw new GiveUp(`${m.name} exited: ${m.process.output().slice(-2000)}`);
      return httpUp(`${m.clientUrl}/health`);
    }, 30_000);
  }

  /** The member that says it leads (polling until one does). */
  async leader(timeoutMs = 10_000): Promise<RelayedMember> {
    let found: RelayedMember | null = null;
    await waitFor('a leader', async () => {
      for (const m of this.members) {
        if (!m.alive || m.paused) continue;
        try {
          const s = (await (await fetch(`${m.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(500) })).json()) as { state: string };
          if (s.state === 'StateLeader') {
            found = m;
            return true;
          }
        } catch {
          /* unreachable member */
        }
      }
      return false;
    }, timeoutMs, 50);
    return found!;
  }

  async kill(m: RelayedMember): Promise<void> {
    if (m.paused) this.resume(m);
    await m.process.stop('SIGKILL');
    m.alive = false;
  }

  async restart(m: RelayedMember): Promise<void> {
    m.process = startProcess(process.execPath, m.args);
    m.alive = true;
    await this.waitUp(m);
  }

  pause(m: RelayedMember): void {
    process.kill(m.process.pid, 'SIGSTOP');
    m.paused = true;
  }

  resume(m: RelayedMember): void {
    process.kill(m.process.pid, 'SIGCONT');
    m.paused = false;
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: RelayedMember[], b: RelayedMember[]): void {
    for (const x of a) for (const y of b) {
      y.relay.block(x.id);
      x.relay.block(y.id);
    }
  }

  heal(): void {
    for (const m of this.members) m.relay.heal();
  }

  async stop(): Promise<void> {
    for (const m of this.members) if (m.paused) this.resume(m);
    await Promise.all(this.members.map((m) => m.process.stop('SIGKILL')));
    await Promise.all(this.members.map((m) => m.relay.stop()));
    await Promise.all(this.members.map((m) => rm(m.dataDir, { recursive: true, force: true })));
  }
}
