/**
 * The pure heart of the bridge: which services a container stands for. No Docker, no store, no
 * clock: the same ContainerView and options always give the same services.
 */
import { attributes, parseTags, portMetadata } from './service-metadata.ts';
import type { ContainerView, PortBinding, Service } from './types.ts';

/** How containers become services (from the command line). */
export interface ServiceOptions {
  /** Stable identity of this Docker host, first part of every service ID. */
  readonly hostId: string;
  /** --ip: the address to advertise for published ports. */
  readonly hostIp?: string;
  /** Advertised when neither --ip nor a specific binding address is known. */
  readonly defaultHostIp: string;
  /** --internal: container address and exposed port instead of the published ones. */
  readonly internal: boolean;
  /** --network: which network's address to use for a container on several. */
  readonly network?: string;
  /** --tags: added to every service. */
  readonly tags: readonly string[];
  /** --require-label `name` or `name=value`: only containers carrying it are registered. */
  readonly requireLabel?: string;
}

/** Why a container has no services right now; undefined when it may have some. */
export function exclusionReason(c: ContainerView, opts: ServiceOptions): string | undefined {
  if (!c.running) return 'not running';
  if (c.paused) return 'paused';
  if (c.health !== undefined && c.health !== 'healthy') return `health ${c.health}`;
  if (opts.requireLabel) {
    const [label, wanted] = splitOnce(opts.requireLabel, '=');
    const has = c.labels[label];
    if (has === undefined || (wanted !== undefined && has !== wanted)) return `no label ${opts.requireLabel}`;
  }
  return undefined;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** "registry:5000/team/web:1.2@sha256:..." -> "web". */
export function imageBaseName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.split('/').pop()!;
  return last.split(':')[0]!;
}

/** The container's address on the chosen network: --network, SERVICE_NETWORK, its mode, or the first. */
export function containerIp(c: ContainerView, network: string | undefined): string | undefined {
  if (network !== undefined) return c.networks[network] || undefined;
  if (c.networks[c.networkMode]) return c.networks[c.networkMode];
  const first = Object.keys(c.networks).sort().find((n) => c.networks[n]);
  return first === undefined ? undefined : c.networks[first];
}

interface Endpoint {
  privatePort: number;
  proto: 'tcp' | 'udp';
  binding?: PortBinding;
}

function endpoints(c: ContainerView, internal: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [key, bindings] of Object.entries(c.ports)) {
    const [portText, protoText] = key.split('/');
    const proto = protoText === 'udp' ? 'udp' : protoText === 'tcp' || protoText === undefined ? 'tcp' : undefined;
    const privatePort = Number(portText);
    if (proto === undefined || !Number.isInteger(privatePort)) continue;
    // IPv4 first: a port published on 0.0.0.0 and :: appears twice.
    const binding = [...bindings].sort((a, b) => Number(a.hostIp.includes(':')) - Number(b.hostIp.includes(':')))[0];
    if (internal || binding || c.networkMode === 'host') out.push({ privatePort, proto, binding });
  }
  return out.sort((a, b) => a.privatePort - b.privatePort || a.proto.localeCompare(b.proto));
}

function publishedIp(binding: PortBinding | undefined, opts: ServiceOptions): string {
  if (opts.hostIp) return opts.hostIp;
  const specific = binding && binding.hostIp !== '' && binding.hostIp !== '0.0.0.0' && binding.hostIp !== '::';
  return specific ? binding.hostIp : opts.defaultHostIp;
}

/**
 * The services of a running, eligible container: one per published port (per exposed port with
 * --internal), named and tagged by SERVICE_* metadata. Ignored ports are left out.
 */
export function servicesFor(c: ContainerView, opts: ServiceOptions): Service[] {
  if (exclusionReason(c, opts) !== undefined) return [];
  const eps = endpoints(c, opts.internal);
  const services: Service[] = [];
  for (const ep of eps) {
    const meta = portMetadata(c, ep.privatePort);
    if (meta.values.ignore) continue;
    const ownIp = containerIp(c, opts.network ?? meta.values.network);
    let ip: string;
    let port: number;
    if (opts.internal) {
      if (!ownIp) continue;
      ip = ownIp;
      port = ep.privatePort;
    } else {
      ip = meta.values.ip || publishedIp(ep.binding, opts);
      port = ep.binding?.hostPort ?? ep.privatePort;
    }
    let name = (meta.values.name || imageBaseName(c.image)).replace(/\//g, '-');
    if (eps.length > 1 && !meta.fromPort.has('name')) name += `-${ep.privatePort}`;
    const udp = ep.proto === 'udp' ? ':udp' : '';
    services.push({
      id: meta.values.id || `${opts.hostId}:${c.name}:${ep.privatePort}${udp}`,
      name,
      ip,
      port,
      proto: ep.proto,
      tags: parseTags(meta.values.tags, opts.tags),
      attrs: attributes(meta),
      hostId: opts.hostId,
      container: { id: c.id, name: c.name, image: c.image },
      // From this host the container's own address reaches the application itself; a published
      // port may be answered by docker-proxy before the application listens.
      probe: ownIp ? { ip: ownIp, port: ep.privatePort } : { ip, port },
    });
  }
  return services;
}
