/**
 * The registrator's public surface: the pure service derivation, the bridge, the adapter
 * interface with its etcd v2 implementation, and the runner `berth registrator` uses.
 */
export type { RegistryAdapter } from './adapter.ts';
export { Bridge, type BridgeOptions, type PortProbe } from './bridge.ts';
export { loadConfig, registratorFlags, type RegistratorConfig } from './config.ts';
export { toContainerView } from './container-view.ts';
export { effectOf, isStopSignal, type DockerEvent, type EventEffect } from './docker-events.ts';
export { DockerUnavailableError, RegistryUnavailableError, ServiceMissingError, UnknownRegistryError } from './errors.ts';
export { EtcdAdapter } from './etcd-adapter.ts';
export { EventLoop, type EventLoopOptions } from './event-loop.ts';
export { parseRegistryUrl, type RegistryTarget } from './registry-url.ts';
export { runRegistrator } from './registrator.ts';
export { exclusionReason, servicesFor, type ServiceOptions } from './services-from-container.ts';
export { serviceMeta, serviceValue, type ContainerView, type Service, type StoredService } from './types.ts';
