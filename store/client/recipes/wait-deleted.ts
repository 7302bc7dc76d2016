import { EtcdError, EtcdErrorCode, type KvBackend } from '../kv-backend.ts';

const GONE = new Set(['delete', 'expire', 'compareAndDelete']);

/**
 * Resolves when `key` is deleted or expires after `afterIndex`, when the store's history no
 * longer reaches back to `afterIndex` (the caller must look again), or when `signal` aborts.
 */
export async function waitDeleted(kv: KvBackend, key: string, afterIndex: number, signal: AbortSignal): Promise<void> {
  try {
    for await (const ev of kv.watch(key, { afterIndex, signal })) {
      if (GONE.has(ev.action) && ev.node?.key === key) return;
    }
  } catch (e) {
    if (e instanceof EtcdError && e.errorCode === EtcdErrorCode.EventIndexCleared) return;
    throw e;
  }
}

/** One signal that aborts when any of `signals` does. */
export function anySignal(signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const c = new AbortController();
  const listeners: [AbortSignal, () => void][] = [];
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      c.abort(s.reason);
      break;
    }
    const on = () => c.abort(s.reason);
    s.addEventListener('abort', on, { once: true });
    listeners.push([s, on]);
  }
  return { signal: c.signal, dispose: () => listeners.forEach(([s, on]) => s.removeEventListener('abort', on)) };
}
