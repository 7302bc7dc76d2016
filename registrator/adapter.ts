/**
 * The registry adapter: what the bridge needs from a service registry, in gliderlabs/registrator's
 * shape (ping, register, deregister, refresh, services). `services()` really lists, so --cleanup
 * works. Adapters are chosen by URL scheme; the bridge never imports one directly.
 */
import type { Service, StoredService } from './types.ts';

export interface RegistryAdapter {
  /** Resolves when the registry answers; rejects otherwise. */
  ping(): Promise<void>;
  /** Writes the service (value and metadata) with the adapter's TTL. */
  register(service: Service): Promise<void>;
  /** Removes the service; a service that is already gone is not an error. */
  deregister(service: Pick<Service, 'name' | 'id'>): Promise<void>;
  /**
   * Extends the TTL without waking watchers. Rejects with ServiceMissingError when the entry no
   * longer exists (it expired while the registry was unreachable): the caller registers again.
   */
  refresh(service: Service): Promise<void>;
  /** Every entry under the adapter's prefix, with its metadata when present. */
  services(): Promise<StoredService[]>;
  /** The key a service is stored under (for logs). */
  keyOf(service: Pick<Service, 'name' | 'id'>): string;
  close(): Promise<void>;
}
