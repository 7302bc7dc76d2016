/**
 * BerthCluster: a testcontainers module for a throwaway berth cluster, like testcontainers'
 * database modules. Each member runs in its own container (the locally built image, see
 * image/build-image.ts) on a private user-defined network and is reached at its container
 * address over the docker0 bridge.
 *
 *   const cluster = await new BerthCluster(3).start();
 *   await fetch(`${cluster.endpoints[0]}/v2/keys/x`, { method: 'PUT', body: 'value=1' });
 *   await cluster.partition([0], [1, 2]);   // iptables inside the members' namespaces
 *   await cluster.heal();
 *   await cluster.kill(0); await cluster.restart(0);
 *   await cluster.stop();
 */
import { spawnSync } from 'node:child_process';
import Dockerode from 'dockerode';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { ensureBerthImage } from './image/build-image.ts';

export interface BerthClusterOptions {
  heartbeatMs?: number;
  electionMs?: number;
  snapshotCount?: number;
  /** Extra `berth store` flags for every member. */
  extraArgs?: string[];
  startupTimeoutMs?: number;
}

export interface BerthMember {
  index: number;
  name: string;
  container: StartedTestContainer;
  /** The member's address on the cluster network (reachable from the host over the bridge). */
  ip: string;
  clientUrl: string;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export class BerthCluster {
  private network?: StartedNetwork;
  private readonly docker = new Dockerode();
  readonly members: BerthMember[] = [];
  private readonly cuts: { member: number; ip: string }[] = [];

  constructor(
    readonly size: number,
    private readonly opts: BerthClusterOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`BerthCluster size must be a positive integer, got ${size}`);
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  get networkName(): string {
    if (!this.network) throw new Error('BerthCluster is not started');
    return this.network.getName();
  }

  async start(): Promise<this> {
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    const image = ensureBerthImage();
    this.network = await new Network().start();
    const names = Array.from({ length: this.size }, (_, i) => `berth-${i}`);
    const initialCluster = names.map((n) => `${n}=http://${n}:2380`).join(',');
    const started = await Promise.all(
      names.map((name) =>
        new GenericContainer(image)
          .withNetwork(this.network!)
          .withNetworkAliases(name)
          .withCommand(this.storeArgs(name, initialCluster))
          .withWaitStrategy(Wait.forListeningPorts())
          .withExposedPorts(2379)
          .withStartupTimeout(this.opts.startupTimeoutMs ?? 60_000)
          .start(),
      ),
    );
    started.forEach((container, index) => {
      const ip = container.getIpAddress(this.network!.getName());
      this.members.push({ index, name: names[index]!, container, ip, clientUrl: `http://${ip}:2379` });
    });
    await this.waitForLeader(30_000);
    return this;
  }

  private storeArgs(name: string, initialCluster: string): string[] {
    return [
      'store',
      '--name', name,
      '--data-dir', '/data',
      '--listen-client-urls', 'http://0.0.0.0:2379',
      '--advertise-client-urls', `http://${name}:2379`,
      '--listen-peer-urls', 'http://0.0.0.0:2380',
      '--initial-advertise-peer-urls', `http://${name}:2380`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--heartbeat-interval', String(this.opts.heartbeatMs ?? 100),
      '--election-timeout', String(this.opts.electionMs ?? 1000),
      '--snapshot-count', String(this.opts.snapshotCount ?? 10000),
      ...(this.opts.extraArgs ?? []),
    ];
  }

  private member(i: number): BerthMember {
    const m = this.members[i];
    if (!m) throw new RangeError(`no member ${i} in a cluster of ${this.members.length}`);
    return m;
  }

  /** The index of the member that reports itself leader, or null. */
  async leader(): Promise<number | null> {
    for (const m of this.members) {
      try {
        const res = await fetch(`${m.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { state?: string };
        if (body.state === 'StateLeader') return m.index;
      } catch {
        /* down, paused or cut off */
      }
    }
    return null;
  }

  async waitForLeader(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const l = await this.leader();
      if (l !== null) return l;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no leader within ${timeoutMs} ms`);
  }

  /** SIGKILL the member's process (the container stops; its data stays for restart). */
  async kill(i: number): Promise<void> {
    await this.docker.getContainer(this.member(i).container.getId()).kill({ signal: 'SIGKILL' });
  }

  async pause(i: number): Promise<void> {
    await this.docker.getContainer(this.member(i).container.getId()).pause();
  }

  async unpause(i: number): Promise<void> {
    await this.docker.getContainer(this.member(i).container.getId()).unpause();
  }

  /** Starts a killed member again on its data; waits until it answers. */
  async restart(i: number): Promise<void> {
    const m = this.member(i);
    const c = this.docker.getContainer(m.container.getId());
    const info = await c.inspect();
    if (info.State.Running) await c.kill({ signal: 'SIGKILL' }).catch(() => {});
    await c.start();
    const fresh = await c.inspect();
    m.ip = fresh.NetworkSettings.Networks[this.networkName]!.IPAddress;
    m.clientUrl = `http://${m.ip}:2379`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`member ${i} did not answer within 30 s of restart`);
  }

  private async pid(i: number): Promise<number> {
    const info = await this.docker.getContainer(this.member(i).container.getId()).inspect();
    if (!info.State.Pid) throw new Error(`member ${i} is not running`);
    return info.State.Pid;
  }

  /**
   * Cuts the network between groups (every member of one group from every member of the
   * others), by DROP rules in each member's own network namespace. Traffic from the host (the
   * tests' clients) still reaches every member.
   */
  async partition(...groups: number[][]): Promise<void> {
    for (const [gi, group] of groups.entries()) {
      for (const a of group) {
        const pid = await this.pid(a);
        for (const [gj, other] of groups.entries()) {
          if (gi === gj) continue;
          for (const b of other) {
            const ip = this.member(b).ip;
            run('nsenter', ['-t', String(pid), '-n', 'iptables', '-I', 'INPUT', '-s', ip, '-j', 'DROP']);
            run('nsenter', ['-t', String(pid), '-n', 'iptables', '-I', 'OUTPUT', '-d', ip, '-j', 'DROP']);
            this.cuts.push({ member: a, ip });
          }
        }
      }
    }
  }

  /** Removes every cut made by partition(). */
  async heal(): Promise<void> {
    for (const { member, ip } of this.cuts.splice(0)) {
      let pid: number;
      try {
        pid = await this.pid(member);
      } catch {
        continue; // a stopped member's namespace (and rules) are gone
      }
      spawnSync('nsenter', ['-t', String(pid), '-n', 'iptables', '-D', 'INPUT', '-s', ip, '-j', 'DROP']);
      spawnSync('nsenter', ['-t', String(pid), '-n', 'iptables', '-D', 'OUTPUT', '-d', ip, '-j', 'DROP']);
    }
  }

  /** The member's log (stdout + stderr), for failure messages. */
  async logs(i: number): Promise<string> {
    const buf = await this.docker.getContainer(this.member(i).container.getId()).logs({ stdout: true, stderr: true, tail: 200 });
    return buf.toString('utf8');
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const c = this.docker.getContainer(m.container.getId());
        await c.remove({ force: true, v: true }).catch(() => {});
      }),
    );
    await this.network?.stop().catch(() => {});
  }
}
