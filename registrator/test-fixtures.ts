/** Builders for unit tests: a running container and bridge options with readable defaults. */
import type { ServiceOptions } from './services-from-container.ts';
import type { ContainerView } from './types.ts';

/** A running web container publishing 80/tcp on 0.0.0.0:32768, on the default bridge. */
export function container(over: Partial<ContainerView> = {}): ContainerView {
  return {
    id: 'c0ffee',
    name: 'web1',
    image: 'registry.local:5000/team/nginx:1.25',
    running: true,
    paused: false,
    env: {},
    labels: {},
    ports: { '80/tcp': [{ hostIp: '0.0.0.0', hostPort: 32768 }] },
    networks: { bridge: '172.17.0.5' },
    networkMode: 'bridge',
    ...over,
  };
}

/** Host "h1" advertising 10.0.0.1, published ports, no tags. */
export function serviceOptions(over: Partial<ServiceOptions> = {}): ServiceOptions {
  return { hostId: 'h1', defaultHostIp: '10.0.0.1', internal: false, tags: [], ...over };
}
