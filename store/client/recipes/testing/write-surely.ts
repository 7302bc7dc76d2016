import type { KvBackend } from '../../kv-backend.ts';

/**
 * Writes `key = value` and returns the write's index, for tests that write while killing
 * members: a write in flight when the raft leader dies may time out although it committed,
 * so after a failure a quorum read tells whether it landed before writing again. `value`
 * must differ from the key's previous value for that check to mean anything.
 */
export async function setSurely(kv: KvBackend, key: string, value: string, attempts = 20): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await kv.set(key, value)).node!.modifiedIndex;
    } catch (e) {
      if (attempt >= attempts) throw e;
      const found = await kv.get(key, { quorum: true }).catch(() => null);
      if (found?.node?.value === value) return found.node.modifiedIndex;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
