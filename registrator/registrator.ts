/**
 * Wiring: store client + adapter, Docker client, host identity, bridge and event loop, from a
 * parsed config. main.ts adds signals and the exit code; nothing here exits the process.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import Dockerode from 'dockerode';
import pRetry from 'p-retry';
import type { Logger } from '../lib/log.ts';
import { HttpKvBackend } from '../store/client/http-backend.ts';
import { Bridge } from './bridge.ts';
import type { RegistratorConfig } from './config.ts';
import { DockerUnavailableError, RegistryUnavailableError } from './errors.ts';
import { EtcdAdapter } from './etcd-adapter.ts';
import { EventLoop } from './event-loop.ts';
import { parseRegistryUrl } from './registry-url.ts';

/** This host's first non-internal IPv4 address, else 127.0.0.1. */
export function detectHostIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The engine ID without its colons, lower case, first 12 characters: stable per Docker host. */
export function hostIdFromEngineId(engineId: string): string {
  return engineId.replace(/[^A-Za-z0-9]/g, '').toLowerCase().slice(0, 12);
}

async function withStartupRetries<T>(config: RegistratorConfig, what: () => Promise<T>): Promise<T> {
  const retries = config.retryAttempts < 0 ? Number.POSITIVE_INFINITY : config.retryAttempts;
  return pRetry(what, { retries, minTimeout: config.retryInterval, maxTimeout: config.retryInterval, factor: 1 });
}

/**
 * Connects to the registry and Docker (with --retry-attempts), then follows Docker until
 * `signal` aborts. Rejects with a typed error when either cannot be reached at start.
 */
export async function runRegistrator(config: RegistratorConfig, url: string, log: Logger, signal: AbortSignal): Promise<void> {
  const target = parseRegistryUrl(url);
  const tls = config.certFile || config.trustedCaFile
    ? { cert: config.certFile && readFileSync(config.certFile), key: config.keyFile && readFileSync(config.keyFile), ca: config.trustedCaFile && readFileSync(config.trustedCaFile) }
    : undefined;
  const kv = new HttpKvBackend({ endpoints: target.endpoints, logger: log, ...(tls ? { tls: { cert: tls.cert || undefined, key: tls.key || undefined, ca: tls.ca || undefined } } : {}) });
  const adapter = new EtcdAdapter(kv, target.prefix, config.ttl);
  try {
    await withStartupRetries(config, () => adapter.ping()).catch((e: unknown) => {
      throw new RegistryUnavailableError(url, e);
    });
    const docker = new Dockerode();
    const info = (await withStartupRetries(config, () => docker.info()).catch((e: unknown) => {
      throw new DockerUnavailableError(e);
    })) as { ID: string };
    const hostId = config.hostId ?? hostIdFromEngineId(info.ID);
    const bridge = new Bridge(adapter, {
      hostId,
      hostIp: config.ip,
      defaultHostIp: detectHostIp(),
      internal: config.internal,
      network: config.network,
      tags: config.tags,
      requireLabel: config.requireLabel,
      waitForPort: config.waitForPort,
      waitForPortTimeoutMs: config.waitForPortTimeout * 1000,
      logger: log,
    });
    log.info({ registry: target.endpoints, prefix: target.prefix, hostId, ttl: config.ttl }, 'registrator starting');
    const loop = new EventLoop(docker, bridge, {
      cleanup: config.cleanup,
      resyncSeconds: config.resync,
      ttlRefreshSeconds: config.ttl > 0 ? config.ttlRefresh : 0,
      deregister: config.deregister,
      logger: log,
    });
    await loop.run(signal);
    bridge.close();
    await bridge.idle();
  } finally {
    await adapter.close();
  }
}
