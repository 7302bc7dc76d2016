/** Errors the registrator raises on purpose (codes BERTH_REGISTRATOR_*). */
import { BerthError } from '../lib/errors.ts';

/** A refresh found no entry to refresh: it expired while the registry was unreachable. */
export class ServiceMissingError extends BerthError {
  constructor(key: string) {
    super('BERTH_REGISTRATOR_SERVICE_MISSING', `${key} is not in the registry (expired?); registering it again`);
  }
}

/** The registry URL names no adapter this build has. */
export class UnknownRegistryError extends BerthError {
  constructor(url: string) {
    super('BERTH_REGISTRATOR_REGISTRY', `${url}: no registry adapter for this URL; use http://, https://, etcd:// or etcds:// with the key prefix as path, e.g. http://127.0.0.1:2379/services`);
  }
}

/** The Docker engine did not answer within the startup retries. */
export class DockerUnavailableError extends BerthError {
  constructor(cause: unknown) {
    super('BERTH_REGISTRATOR_DOCKER', `cannot reach the Docker engine (DOCKER_HOST or /var/run/docker.sock): ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** The registry did not answer within the startup retries. */
export class RegistryUnavailableError extends BerthError {
  constructor(url: string, cause: unknown) {
    super('BERTH_REGISTRATOR_REGISTRY_DOWN', `cannot reach the registry at ${url}: ${(cause as Error)?.message ?? String(cause)}; check the URL or raise --retry-attempts`, { cause });
  }
}
