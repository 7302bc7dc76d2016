/**
 * Docker helpers for tests: a tiny busybox image built locally with `docker import` (no pull is
 * possible here) and containers that run `busybox httpd` as a web backend.
 *
 *   const image = await ensureBusyboxImage();            // 'berth-test-busybox:1'
 *   const c = await startBusybox({ name: 'berth-reg-web1', publish: [80] });
 *   await fetch(`http://127.0.0.1:${c.hostPorts[80]}/`); // "hello from berth-reg-web1"
 *   await removeContainers('berth-reg-');                 // only names with your prefix
 *
 * Every helper that shares the Docker engine must name what it creates with its own prefix and
 * remove only those; the busybox image itself is shared and never removed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, copyFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

/** The shared test image: /bin/busybox from busybox-static, plus /www/index.html. */
export const BUSYBOX_IMAGE = 'berth-test-busybox:1';

/** One client for the local engine (DOCKER_HOST or the default socket). */
export function dockerClient(): Docker {
  return new Docker();
}

/**
 * Builds `image` from /bin/busybox with `docker import` unless it exists already. Safe to call
 * from several tests (and helpers) at once: the import is idempotent for the same tag.
 */
export async function ensureBusyboxImage(image = BUSYBOX_IMAGE): Promise<string> {
  const docker = dockerClient();
  try {
    await docker.getImage(image).inspect();
    return image;
  } catch {
    /* not there yet: build it */
  }
  const root = await mkdtemp(join(tmpdir(), 'berth-busybox-root-'));
  try {
    await mkdir(join(root, 'bin'));
    await mkdir(join(root, 'www'));
    await mkdir(join(root, 'tmp'));
    await copyFile('/bin/busybox', join(root, 'bin/busybox'));
    await chmod(join(root, 'bin/busybox'), 0o755);
    await writeFile(join(root, 'www/index.html'), 'hello from busybox\n');
    const tar = spawnSync('sh', ['-c', `tar -C '${root}' -c . | docker import --change 'CMD ["/bin/busybox","httpd","-f","-p","80","-h","/www"]' - '${image}'`], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`docker import of ${image} failed: ${tar.stderr}`);
    return image;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** What startBusybox creates. */
export interface BusyboxOptions {
  /** Container name; must carry the caller's prefix. */
  name: string;
  /** Container ports (tcp) to expose without publishing (the default command serves only 80). */
  expose?: number[];
  /** Container ports to publish on `hostIp` with an engine-chosen host port. */
  publish?: number[];
  hostIp?: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** Overrides the command (default: httpd on port 80 serving "hello from <name>"). */
  cmd?: string[];
  /** A user-defined network to attach to instead of the default bridge. */
  network?: string;
  /** Docker HEALTHCHECK: a busybox shell command run inside the container (the image has no /bin/sh). */
  healthCmd?: string;
  healthIntervalMs?: number;
  /** Seconds `docker stop` waits before SIGKILL (busybox httpd as PID 1 ignores SIGTERM). */
  stopTimeoutSeconds?: number;
  /** STOPSIGNAL, e.g. 'SIGWINCH' (default SIGTERM). */
  stopSignal?: string;
}

/** A started container with its addresses. */
export interface BusyboxContainer {
  readonly id: string;
  readonly name: string;
  /** Container port -> published host port. */
  readonly hostPorts: Record<number, number>;
  /** Its address on the network it was attached to. */
  readonly ip: string;
  stop(timeoutSeconds?: number): Promise<void>;
  remove(): Promise<void>;
}

function defaultCmd(name: string): string[] {
  // The page names the container, so a test can tell which backend answered.
  return ['/bin/busybox', 'sh', '-c', `echo "hello from ${name}" > /tmp/index.html && exec /bin/busybox httpd -f -p 80 -h /tmp`];
}

/** Creates and starts a busybox container (build the image first with ensureBusyboxImage). */
export async function startBusybox(opts: BusyboxOptions, image = BUSYBOX_IMAGE): Promise<BusyboxContainer> {
  const docker = dockerClient();
  const ports = [...new Set([...(opts.expose ?? []), ...(opts.publish ?? [])])];
  const exposed = Object.fromEntries(ports.map((p) => [`${p}/tcp`, {}]));
  const bindings = Object.fromEntries((opts.publish ?? []).map((p) => [`${p}/tcp`, [{ HostIp: opts.hostIp ?? '127.0.0.1', HostPort: '' }]]));
  const container = await docker.createContainer({
    name: opts.name,
    Image: image,
    Cmd: opts.cmd ?? defaultCmd(opts.name),
    Env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: opts.labels ?? {},
    ExposedPorts: exposed,
    StopTimeout: opts.stopTimeoutSeconds ?? 1,
    ...(opts.stopSignal ? { StopSignal: opts.stopSignal } : {}),
    ...(opts.healthCmd ? { Healthcheck: { Test: ['CMD', '/bin/busybox', 'sh', '-c', opts.healthCmd], Interval: (opts.healthIntervalMs ?? 500) * 1e6, Retries: 1, Timeout: 1e9 } } : {}),
    HostConfig: { PortBindings: bindings, ...(opts.network ? { NetworkMode: opts.network } : {}) },
  });
  await container.start();
  const info = await container.inspect();
  const hostPorts: Record<number, number> = {};
  for (const [key, list] of Object.entries(info.NetworkSettings.Ports ?? {})) {
    const hostPort = list?.[0]?.HostPort;
    if (hostPort) hostPorts[Number(key.split('/')[0])] = Number(hostPort);
  }
  const nets = Object.values(info.NetworkSettings.Networks ?? {});
  return {
    id: info.Id,
    name: opts.name,
    hostPorts,
    ip: nets[0]?.IPAddress ?? '',
    async stop(timeoutSeconds = opts.stopTimeoutSeconds ?? 1) {
      await container.stop({ t: timeoutSeconds }).catch(ignoreNotRunning);
    },
    async remove() {
      await container.remove({ force: true }).catch(ignoreNotFound);
    },
  };
}

function ignoreNotRunning(e: { statusCode?: number }): void {
  if (e.statusCode !== 304 && e.statusCode !== 404) throw e;
}

function ignoreNotFound(e: { statusCode?: number }): void {
  if (e.statusCode !== 404 && e.statusCode !== 409) throw e;
}

/** Force-removes every container whose name starts with `prefix` (and only those). */
export async function removeContainers(prefix: string): Promise<void> {
  if (prefix.length < 4) throw new Error(`refusing to remove containers by the short prefix "${prefix}"`);
  const docker = dockerClient();
  const list = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  const mine = list.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(prefix)));
  await Promise.all(mine.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(ignoreNotFound)));
}

/** Names (without the leading slash) of the running containers whose name starts with `prefix`. */
export async function runningContainerNames(prefix: string): Promise<string[]> {
  const list = await dockerClient().listContainers({ filters: { name: [prefix] } });
  return list.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))).filter((n) => n.startsWith(prefix)).sort();
}

/** Creates a user-defined bridge network (name with your prefix); returns a remover. */
export async function createNetwork(name: string): Promise<{ name: string; remove(): Promise<void> }> {
  const docker = dockerClient();
  const net = await docker.createNetwork({ Name: name, Driver: 'bridge' });
  return { name, remove: async () => void (await net.remove().catch(ignoreNotFound)) };
}

/** Removes every network whose name starts with `prefix` (remove their containers first). */
export async function removeNetworks(prefix: string): Promise<void> {
  if (prefix.length < 4) throw new Error(`refusing to remove networks by the short prefix "${prefix}"`);
  const docker = dockerClient();
  const nets = await docker.listNetworks({ filters: { name: [prefix] } });
  await Promise.all(nets.filter((n) => n.Name.startsWith(prefix)).map((n) => docker.getNetwork(n.Id).remove().catch(ignoreNotFound)));
}
