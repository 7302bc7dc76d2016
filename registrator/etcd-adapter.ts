/**
 * The etcd v2 adapter (berth or real etcd, through store/client only). Layout, compatible with
 * gliderlabs/registrator's etcd backend:
 *
 *   <prefix>/<name>/<id>        = "ip:port"   (TTL)
 *   <prefix>/<name>/_meta/<id>  = JSON         (TTL; hidden, so listings of <name> are unchanged)
 */
import { EtcdError, EtcdErrorCode, type KvBackend, type KvNode } from '../store/client/kv-backend.ts';
import type { RegistryAdapter } from './adapter.ts';
import { ServiceMissingError } from './errors.ts';
import { serviceMeta, serviceValue, type Service, type StoredService } from './types.ts';

function isCode(e: unknown, code: number): boolean {
  return e instanceof EtcdError && e.errorCode === code;
}

function basename(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

export class EtcdAdapter implements RegistryAdapter {
  /**
   * @param kv the store client (HttpKvBackend in production, MemoryKvBackend in unit tests)
   * @param prefix key prefix, e.g. "/services"
   * @param ttlSeconds TTL of every entry; 0 = entries never expire
   */
  constructor(
    private readonly kv: KvBackend,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  keyOf(s: Pick<Service, 'name' | 'id'>): string {
    return `${this.prefix}/${s.name}/${s.id}`;
  }

  private metaKeyOf(s: Pick<Service, 'name' | 'id'>): string {
    return `${this.prefix}/${s.name}/_meta/${s.id}`;
  }

  async ping(): Promise<void> {
    await this.kv.get('/');
  }

  async register(s: Service): Promise<void> {
    const ttl = this.ttlSeconds > 0 ? this.ttlSeconds : null;
    // Metadata first: a reader that sees the value can already find its metadata.
    await this.kv.set(this.metaKeyOf(s), serviceMeta(s), { ttl });
    await this.kv.set(this.keyOf(s), serviceValue(s), { ttl });
  }

  async deregister(s: Pick<Service, 'name' | 'id'>): Promise<void> {
    for (const key of [this.keyOf(s), this.metaKeyOf(s)]) {
      try {
        await this.kv.delete(key);
      } catch (e) {
        if (!isCode(e, EtcdErrorCode.KeyNotFound)) throw e;
      }
    }
  }

  async refresh(s: Service): Promise<void> {
    if (this.ttlSeconds <= 0) return;
    for (const key of [this.keyOf(s), this.metaKeyOf(s)]) {
      try {
        await this.kv.set(key, '', { ttl: this.ttlSeconds, refresh: true, prevExist: true });
      } catch (e) {
        if (isCode(e, EtcdErrorCode.KeyNotFound)) throw new ServiceMissingError(key);
        throw e;
      }
    }
  }

  async services(): Promise<StoredService[]> {
    let root: KvNode | undefined;
    try {
      root = (await this.kv.get(this.prefix, { recursive: true })).node;
    } catch (e) {
      if (isCode(e, EtcdErrorCode.KeyNotFound)) return [];
      throw e;
    }
    const out: StoredService[] = [];
    for (const dir of root?.nodes ?? []) {
      if (!dir.dir) continue;
      const name = basename(dir.key);
      const metas = await this.metadataOf(name);
      for (const leaf of dir.nodes ?? []) {
        if (leaf.dir) continue;
        const id = basename(leaf.key);
        out.push({ name, id, value: leaf.value ?? '', ...(metas.has(id) ? { meta: metas.get(id)! } : {}) });
      }
    }
    return out;
  }

  /** id -> JSON for one service name (the hidden `_meta` directory is read explicitly). */
  private async metadataOf(name: string): Promise<Map<string, string>> {
    try {
      const res = await this.kv.get(`${this.prefix}/${name}/_meta`, { recursive: true });
      return new Map((res.node?.nodes ?? []).filter((n) => !n.dir).map((n) => [basename(n.key), n.value ?? '']));
    } catch (e) {
      if (isCode(e, EtcdErrorCode.KeyNotFound)) return new Map();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.kv.close();
  }
}
