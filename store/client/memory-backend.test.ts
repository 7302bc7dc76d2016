import { test } from 'node:test';
import { MemoryKvBackend } from './memory-backend.ts';
import { kvBackendContract } from './kv-backend.contract.ts';

test('MemoryKvBackend meets the KvBackend contract', async (t) => {
  const kv = new MemoryKvBackend();
  t.after(() => kv.close());
  await kvBackendContract(t, kv, '/contract');
});
