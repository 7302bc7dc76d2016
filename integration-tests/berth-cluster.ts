/**
 * BerthCluster: a testcontainers module for a throwaway berth cluster, like testcontainers'
 * database modules. Each member runs in its own container (the locally built image, see
 * image/build-image.ts) on a private user-defined network, is reached from the host at its
 * container address, and publishes its client port on the host (for containers on docker0).
 *
 *   const cluster = await new BerthCluster(3).start();
 *   await fetch(`${cluster.endpoints[0]}/v2/keys/x`, { method: 'PUT', body: new URLSearchParams({ value: '1' }) });
 *   await cluster.partition([0], [1, 2]);   // iptables inside the members' namespaces
 *   await cluster.heal();
 *   await cluster.kill(0); await cluster.restart(0);
 *   await cluster.stop();
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import { GenericContainer, Network, Wait, type StartedNetwork } from 'testcontainers';
import { BerthClusterError } from './errors.ts';
import { ensureBerthImage } from './image/build-image.ts';
import { NetworkCuts } from './network-cuts.ts';
import { OWNER_PID_LABEL, removeOrphans } from './orphans.ts';

/** Options of a BerthCluster. */
export interface BerthClusterOptions {
  /** Prefix of every container and network name (default `berth-`), so suites can clean up their own. */
  namePrefix?: string;
  /** A ready image tag; when absent the image is built (or reused) by ensureBerthImage. */
  image?: string;
  /** Repository of the image ensureBerthImage builds (default `berth`). */
  imageRepo?: string;
  heartbeatMs?: number;
  electionMs?: number;
  snapshotCount?: number;
  /** `--log-level` of every member (default `info`). */
  logLevel?: string;
  /** Extra `berth store` flags for every member. */
  extraArgs?: string[];
  startupTimeoutMs?: number;
  /** Before starting, remove `namePrefix*` containers whose owner process died (and their empty networks). */
  removeOrphans?: boolean;
}

/** One member: its container, addresses and what the cluster did to it. */
export interface BerthMember {
  index: number;
  /** The member's name, also its host name on the cluster network. */
  name: string;
  containerId: string;
  /** The member's address on the cluster network (reachable from the host over the bridge). */
  ip: string;
  clientUrl: string;
  /** The client port published on the host (containers on docker0 reach `http://<docker0 gateway>:hostPort`). */
  hostPort: number;
  /** False after kill() until restart(). */
  alive: boolean;
  paused: boolean;
  /** True after removeMember(). */
  removed: boolean;
}

/** What one member says about itself (GET /v2/stats/self). */
interface SelfStats {
  id: string;
  state: string;
  leaderInfo: { leader: string };
}

/**
 * The text of a non-TTY container's log: Docker frames it as [stream, 0, 0, 0, length (u32 BE)]
 * headers, each followed by that many bytes of stdout or stderr.
 */
export function demuxDockerLog(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length && buf[at]! <= 2 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0) {
    const length = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  return at === 0 ? buf.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A running berth cluster in containers; see the file comment for a tour. */
export class BerthCluster {
  private network?: StartedNetwork;
  private readonly docker = new Dockerode();
  private readonly cuts = new NetworkCuts();
  private readonly clusterTag = randomBytes(3).toString('hex');
  private image = '';
  readonly members: BerthMember[] = [];

  constructor(
    readonly size: number,
    private readonly opts: BerthClusterOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`BerthCluster size must be a positive integer, got ${size}`);
  }

  /** Client URLs of the members not removed. */
  get endpoints(): string[] {
    return this.current().map((m) => m.clientUrl);
  }

  /** The image the members run (known once started); other containers in a test can use it too (it has busybox). */
  get imageTag(): string {
    if (!this.image) throw new BerthClusterError('BerthCluster is not started');
    return this.image;
  }

  /** Name of the cluster's Docker network. */
  get networkName(): string {
    if (!this.network) throw new BerthClusterError('BerthCluster is not started');
    return this.network.getName();
  }

  private get prefix(): string {
    return `${this.opts.namePrefix ?? 'berth-'}${this.clusterTag}-`;
  }

  private current(): BerthMember[] {
    return this.members.filter((m) => !m.removed);
  }

  /** Builds the image if needed, starts the network and the members, waits for a leader. */
  async start(): Promise<this> {
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    if (this.opts.removeOrphans) await removeOrphans(this.opts.namePrefix ?? 'berth-', this.docker);
    this.image = this.opts.image ?? ensureBerthImage({ repo: this.opts.imageRepo });
    const networkName = `${this.prefix}net`;
    this.network = await new Network({ nextUuid: () => networkName }).start();
    const names = Array.from({ length: this.size }, (_, i) => `berth-${i}`);
    const initialCluster = names.map((n) => `${n}=http://${n}:2380`).join(',');
    try {
      await Promise.all(names.map((name, index) => this.startMember(index, name, initialCluster, 'new')));
      this.members.sort((a, b) => a.index - b.index);
      await this.waitForLeader(30_000);
    } catch (e) {
      await this.stop();
      throw e;
    }
    return this;
  }

  private async startMember(index: number, name: string, initialCluster: string, state: 'new' | 'existing'): Promise<BerthMember> {
    const container = await new GenericContainer(this.image)
      .withName(`${this.prefix}${name}`)
      .withLabels({ [OWNER_PID_LABEL]: String(process.pid) })
      .withNetwork(this.network!)
      .withNetworkAliases(name)
      .withCommand(this.storeArgs(name, initialCluster, state))
      .withExposedPorts(2379)
      .withWaitStrategy(Wait.forListeningPorts())
      .withStartupTimeout(this.opts.startupTimeoutMs ?? 60_000)
      .start();
    const ip = container.getIpAddress(this.networkName);
    const member: BerthMember = { index, name, containerId: container.getId(), ip, clientUrl: `http://${ip}:2379`, hostPort: container.getMappedPort(2379), alive: true, paused: false, removed: false };
    this.members.push(member);
    return member;
  }

  private storeArgs(name: string, initialCluster: string, state: 'new' | 'existing'): string[] {
    return [
      'store',
      '--name', name,
      '--data-dir', '/data',
      '--log-level', this.opts.logLevel ?? 'info',
      '--listen-client-urls', 'http://0.0.0.0:2379',
      '--advertise-client-urls', `http://${name}:2379`,
      '--listen-peer-urls', 'http://0.0.0.0:2380',
      '--initial-advertise-peer-urls', `http://${name}:2380`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', state,
      '--heartbeat-interval', String(this.opts.heartbeatMs ?? 100),
      '--election-timeout', String(this.opts.electionMs ?? 1000),
      '--snapshot-count', String(this.opts.snapshotCount ?? 10000),
      ...(this.opts.extraArgs ?? []),
    ];
  }

  /** The member at `i` (its index in `members`). */
  member(i: number): BerthMember {
    const m = this.members[i];
    if (!m) throw new RangeError(`no member ${i} in a cluster of ${this.members.length}`);
    return m;
  }

  private container(i: number): Dockerode.Container {
    return this.docker.getContainer(this.member(i).containerId);
  }

  private async selfStats(m: BerthMember): Promise<SelfStats | null> {
    if (!m.alive || m.paused || m.removed) return null;
    try {
      const res = await fetch(`${m.clientUrl}/v2/stats/self`, { signal: AbortSignal.timeout(1000) });
      return (await res.json()) as SelfStats;
    } catch {
      return null; // down, paused or cut off
    }
  }

  /**
   * The index of the member that says it leads and that a majority of the members (removed
   * ones aside) follow, or null. A deposed leader that still believes in itself does not count.
   */
  async leader(): Promise<number | null> {
    const current = this.current();
    const stats = await Promise.all(current.map((m) => this.selfStats(m)));
    const majority = Math.floor(current.length / 2) + 1;
    for (const [k, s] of stats.entries()) {
      if (s?.state !== 'StateLeader') continue;
      const followers = stats.filter((o) => o?.leaderInfo.leader === s.id).length;
      if (followers >= majority) return current[k]!.index;
    }
    return null;
  }

  /** Polls leader() until there is one; returns its index. */
  async waitForLeader(timeoutMs = 10_000, everyMs = 50): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const l = await this.leader();
      if (l !== null) return l;
      await sleep(everyMs);
    }
    throw new BerthClusterError(`no leader followed by a majority within ${timeoutMs} ms`);
  }

  /** SIGKILL the member's process (the container stops; its data stays for restart). */
  async kill(i: number): Promise<void> {
    const m = this.member(i);
    if (m.paused) await this.unpause(i);
    await this.container(i).kill({ signal: 'SIGKILL' });
    await this.container(i).wait();
    m.alive = false;
  }

  /** Freezes every process of the member (cgroup freezer): it holds its sockets but answers nothing. */
  async pause(i: number): Promise<void> {
    await this.container(i).pause();
    this.member(i).paused = true;
  }

  async unpause(i: number): Promise<void> {
    await this.container(i).unpause();
    this.member(i).paused = false;
  }

  /** Starts a killed member again on its data; waits until it answers HTTP. */
  async restart(i: number): Promise<void> {
    const m = this.member(i);
    const c = this.container(i);
    if (m.paused) await this.unpause(i);
    if ((await c.inspect()).State.Running) await c.kill({ signal: 'SIGKILL' }).catch(() => {});
    await c.start();
    const fresh = await c.inspect();
    m.ip = fresh.NetworkSettings.Networks[this.networkName]!.IPAddress;
    m.clientUrl = `http://${m.ip}:2379`;
    m.hostPort = Number(fresh.NetworkSettings.Ports['2379/tcp']?.[0]?.HostPort ?? m.hostPort);
    m.alive = true;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${m.clientUrl}/version`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new BerthClusterError(`member ${i} did not answer within 30 s of restart:\n${await this.logs(i)}`);
  }

  private async pid(i: number): Promise<number | null> {
    const info = await this.container(i).inspect();
    return info.State.Running && info.State.Pid ? info.State.Pid : null;
  }

  /** Cuts each listed link (a pair of member indexes) in both directions. Stopped members are skipped. */
  async cutLinks(links: readonly (readonly [number, number])[]): Promise<void> {
    for (const [a, b] of links) {
      for (const [from, to] of [[a, b], [b, a]] as const) {
        const pid = await this.pid(from);
        if (pid !== null) this.cuts.drop(pid, this.member(to).ip);
      }
    }
  }

  /** Cuts every member of each group from every member of the other groups; members in no group keep their links. */
  async partition(...groups: number[][]): Promise<void> {
    const links: [number, number][] = [];
    for (const [gi, group] of groups.entries()) {
      for (const other of groups.slice(gi + 1)) for (const a of group) for (const b of other) links.push([a, b]);
    }
    await this.cutLinks(links);
  }

  /** Cuts member `i` from every other member. */
  async isolate(i: number): Promise<void> {
    await this.partition([i], this.current().map((m) => m.index).filter((j) => j !== i));
  }

  /** Removes every cut made by cutLinks() / partition() / isolate(). */
  async heal(): Promise<void> {
    const pids = await Promise.all(this.members.map((m) => (m.removed ? null : this.pid(m.index).catch(() => null))));
    this.cuts.healAll(new Set(pids.filter((p): p is number => p !== null)));
  }

  /** Heals every cut, unpauses and restarts every member: the cluster as started, minus removed members. */
  async healAll(): Promise<void> {
    await this.heal();
    for (const m of this.current()) if (m.paused) await this.unpause(m.index);
    await Promise.all(this.current().filter((m) => !m.alive).map((m) => this.restart(m.index)));
  }

  /** The member's raft id (hex) as GET /v2/members lists it. */
  async memberId(i: number): Promise<string> {
    const list = await this.membersList();
    const found = list.find((x) => x.name === this.member(i).name);
    if (!found) throw new BerthClusterError(`member ${this.member(i).name} is not in the member list`);
    return found.id;
  }

  private async membersList(): Promise<{ id: string; name: string; peerURLs: string[] }[]> {
    const l = await this.waitForLeader();
    const res = await fetch(`${this.member(l).clientUrl}/v2/members`, { signal: AbortSignal.timeout(5000) });
    return ((await res.json()) as { members: { id: string; name: string; peerURLs: string[] }[] }).members;
  }

  /** Removes member `i` from the cluster (DELETE /v2/members/<id> on the leader), then its container. */
  async removeMember(i: number): Promise<void> {
    const id = await this.memberId(i);
    const l = await this.waitForLeader();
    const res = await fetch(`${this.member(l).clientUrl}/v2/members/${id}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
    if (res.status !== 204) throw new BerthClusterError(`removing member ${i} answered ${res.status}: ${await res.text()}`);
    this.member(i).removed = true;
    await this.container(i).remove({ force: true, v: true });
  }

  /** Adds a fresh member (POST /v2/members), starts it with --initial-cluster-state existing; returns its index. */
  async addMember(): Promise<number> {
    const index = this.members.length;
    const name = `berth-${index}`;
    const l = await this.waitForLeader();
    const res = await fetch(`${this.member(l).clientUrl}/v2/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ peerURLs: [`http://${name}:2380`] }), signal: AbortSignal.timeout(10_000) });
    if (res.status !== 201) throw new BerthClusterError(`adding a member answered ${res.status}: ${await res.text()}`);
    const initialCluster = [...this.current().map((m) => m.name), name].map((n) => `${n}=http://${n}:2380`).join(',');
    await this.startMember(index, name, initialCluster, 'existing');
    return index;
  }

  /** The member's log (stdout + stderr), for failure messages. */
  async logs(i: number, tail = 200): Promise<string> {
    const buf = await this.container(i).logs({ stdout: true, stderr: true, tail });
    return demuxDockerLog(buf);
  }

  /** Removes every container and the network (and with them all data). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.docker.getContainer(m.containerId).remove({ force: true, v: true }).catch(() => {})));
    await this.network?.stop().catch(() => {});
  }
}
