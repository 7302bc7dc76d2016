import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../lib/testing/ports.ts';
import { httpUp, startProcess, waitFor, type TestProcess } from '../../lib/testing/process.ts';
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

/**
 * `berth store` members as child processes on loopback, each behind a PeerRelay so tests can
 * partition exactly the links they name.
 */
export class RelayedCluster {
  readonly members: RelayedMember[] = [];

  static async start(size: number, opts: { heartbeatMs?: number; electionMs?: number; snapshotCount?: number } = {}): Promise<RelayedCluster> {
    const c = new RelayedCluster();
    const specs = [];
    for (let i = 0; i < size; i++) {
      const peerPort = await freePort();
      const relay = new PeerRelay(peerPort);
      await relay.start();
      specs.push({ name: `m${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerPort, relay });
    }
    const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.relay.port}`).join(',');
    for (const s of specs) {
      const dataDir = await mkdtemp(join(tmpdir(), `berth-nemesis-${s.name}-`));
      const args = [berth, 'store', '--log-level', 'warn', '--name', s.name, '--data-dir', dataDir, '--listen-client-urls', s.clientUrl, '--listen-peer-urls', `http://127.0.0.1:${s.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${s.relay.port}`, '--initial-cluster', initialCluster, '--heartbeat-interval', String(opts.heartbeatMs ?? 50), '--election-timeout', String(opts.electionMs ?? 500), '--snapshot-count', String(opts.snapshotCount ?? 10000)];
      c.members.push({ ...s, id: 0, dataDir, args, process: startProcess(process.execPath, args), alive: true, paused: false });
    }
    try {
      for (const m of c.members) await c.waitUp(m);
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
      if (m.process.child.exitCode !== null) throw new Error(`${m.name} exited: ${m.process.output().slice(-2000)}`);
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
