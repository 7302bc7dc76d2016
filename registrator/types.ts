/**
 * The registrator's data: a container as the bridge needs it (taken from `docker inspect`, so the
 * bridge stays pure) and the services it turns into.
 */

/** One published binding of a container port. */
export interface PortBinding {
  readonly hostIp: string;
  readonly hostPort: number;
}

/** The parts of `docker inspect` that decide registration. */
export interface ContainerView {
  readonly id: string;
  /** Without the leading slash. */
  readonly name: string;
  readonly image: string;
  readonly running: boolean;
  readonly paused: boolean;
  /** undefined: the image has no HEALTHCHECK. */
  readonly health?: 'starting' | 'healthy' | 'unhealthy';
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** "80/tcp" -> bindings ([] when exposed but not published). */
  readonly ports: Readonly<Record<string, readonly PortBinding[]>>;
  /** Network name -> the container's IPv4 address on it. */
  readonly networks: Readonly<Record<string, string>>;
  /** HostConfig.NetworkMode: "bridge", "host", a network name, ... */
  readonly networkMode: string;
}

/** One service endpoint the registrator publishes. */
export interface Service {
  /** `<host-id>:<container-name>:<private-port>[:udp]`, or SERVICE_ID. */
  readonly id: string;
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly proto: 'tcp' | 'udp';
  readonly tags: readonly string[];
  /** The other SERVICE_* values (lower-case keys), CHECK_* excluded. */
  readonly attrs: Readonly<Record<string, string>>;
  readonly hostId: string;
  readonly container: { readonly id: string; readonly name: string; readonly image: string };
  /** Where readiness is probed from this host: the container's own address when it has one. */
  readonly probe: { readonly ip: string; readonly port: number };
}

/** An entry as the registry holds it (what `services()` lists). */
export interface StoredService {
  readonly name: string;
  readonly id: string;
  /** `ip:port`. */
  readonly value: string;
  /** The metadata JSON, when the sibling key exists. */
  readonly meta?: string;
}

/** The value the plain layout stores for a service. */
export function serviceValue(s: Service): string {
  return `${s.ip}:${s.port}`;
}

/** The metadata JSON stored under `_meta/<id>` (stable key order, so equal services compare equal). */
export function serviceMeta(s: Service): string {
  return JSON.stringify({
    id: s.id,
    name: s.name,
    ip: s.ip,
    port: s.port,
    proto: s.proto,
    tags: s.tags,
    attrs: s.attrs,
    state: 'passing',
    hostId: s.hostId,
    container: s.container,
  });
}
