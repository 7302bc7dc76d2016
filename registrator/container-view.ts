/** Turns `docker inspect` output into the ContainerView the pure bridge works on. */
import type Dockerode from 'dockerode';
import type { ContainerView, PortBinding } from './types.ts';

function keyValues(list: readonly string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i > 0) out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function ports(info: Dockerode.ContainerInspectInfo): Record<string, PortBinding[]> {
  const out: Record<string, PortBinding[]> = {};
  for (const key of Object.keys(info.Config.ExposedPorts ?? {})) out[key] = [];
  for (const [key, list] of Object.entries(info.NetworkSettings.Ports ?? {})) {
    out[key] = (list ?? []).filter((b) => b.HostPort).map((b) => ({ hostIp: b.HostIp ?? '', hostPort: Number(b.HostPort) }));
  }
  return out;
}

function health(info: Dockerode.ContainerInspectInfo): ContainerView['health'] {
  const status = info.State.Health?.Status;
  return status === 'starting' || status === 'healthy' || status === 'unhealthy' ? status : undefined;
}

/** The parts of an inspect result that decide registration. */
export function toContainerView(info: Dockerode.ContainerInspectInfo): ContainerView {
  const networks: Record<string, string> = {};
  for (const [name, net] of Object.entries(info.NetworkSettings.Networks ?? {})) networks[name] = net.IPAddress ?? '';
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    running: info.State.Running && !info.State.Restarting,
    paused: info.State.Paused,
    health: health(info),
    env: keyValues(info.Config.Env),
    labels: { ...(info.Config.Labels ?? {}) },
    ports: ports(info),
    networks,
    networkMode: info.HostConfig.NetworkMode ?? 'default',
  };
}
