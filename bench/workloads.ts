import type { Rand } from '../lib/rand.ts';
import type { LoadRequest } from './load.ts';

/** The request mixes the benchmark runs, identical for berth and etcd. */
export type Workload = (rand: Rand, conn: number) => LoadRequest;

export const KEY_SPACE = 10_000;

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function putRandomKeys(valueBytes: number): Workload {
  const value = 'v'.repeat(valueBytes);
  return (rand) => ({ method: 'PUT', path: `/v2/keys/bench/k${rand.int(KEY_SPACE)}`, body: form({ value }) });
}

/** GETs over keys that `preload` wrote first. */
export function getRandomKeys(opts: { quorum: boolean; keys: number }): Workload {
  const q = opts.quorum ? '?quorum=true' : '';
  return (rand) => ({ method: 'GET', path: `/v2/keys/bench/k${rand.int(opts.keys)}${q}` });
}

/** Each connection swaps its own key between two values with compareAndSwap, so every CAS succeeds. */
export function compareAndSwap(): Workload {
  const flips = new Map<number, number>();
  return (_rand, conn) => {
    const n = flips.get(conn) ?? 0;
    flips.set(conn, n + 1);
    const [prev, next] = n % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    return { method: 'PUT', path: `/v2/keys/bench/cas${conn}`, body: form({ value: next!, prevValue: prev! }) };
  };
}

/** Writes `keys` keys with `connections` parallel writers (before GET and CAS rows). */
export async function preload(url: string, keys: number, valueBytes: number, connections = 32): Promise<void> {
  const value = 'v'.repeat(valueBytes);
  let next = 0;
  const worker = async () => {
    while (next < keys) {
      const k = next++;
      const res = await fetch(`${url}/v2/keys/bench/k${k}`, { method: 'PUT', body: new URLSearchParams({ value }) });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`preload PUT k${k}: HTTP ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
}

export async function setupCas(url: string, connections: number): Promise<void> {
  for (let c = 0; c < connections; c++) {
    const res = await fetch(`${url}/v2/keys/bench/cas${c}`, { method: 'PUT', body: new URLSearchParams({ value: 'a' }) });
    await res.arrayBuffer();
  }
}
