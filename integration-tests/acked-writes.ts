import type { Rand } from '../lib/rand.ts';
import type { WorkloadTarget } from '../store/cluster-tests/workload.ts';

/** The directory the writers create their keys in. */
export const ACKED_DIR = '/acked';
const TIMEOUT_MS = 3000;

/** What the writers did: keys the store acknowledged, and keys whose fate is unknown. */
export interface AckedWrites {
  acked: Set<string>;
  unknown: Set<string>;
  attempts: number;
}

/**
 * Starts clients that each create fresh keys (`prevExist=false`) under ACKED_DIR on random live
 * members until `stop` is set. Every key is written once, so a key acknowledged with 201 that a
 * member lacks later is a lost write, whatever happened to the other keys. `writes` fills in as
 * they go; `finished` settles when every client has stopped.
 */
export function startAckedWriters(cluster: WorkloadTarget, rand: Rand, clients: number, stop: { done: boolean }): { writes: AckedWrites; finished: Promise<void> } {
  const out: AckedWrites = { acked: new Set(), unknown: new Set(), attempts: 0 };
  const writer = async (id: number, r: Rand) => {
    for (let n = 0; !stop.done; n++) {
      const live = cluster.members.filter((m) => m.alive && !m.paused);
      const m = r.pick(live.length ? live : cluster.members);
      const key = `w${id}-${n}`;
      out.attempts++;
      try {
        const res = await fetch(`${m.clientUrl}/v2/keys${ACKED_DIR}/${key}`, { method: 'PUT', body: new URLSearchParams({ value: key, prevExist: 'false' }), signal: AbortSignal.timeout(TIMEOUT_MS) });
        await res.arrayBuffer();
        if (res.status === 201) out.acked.add(key);
        else if (res.status >= 500) out.unknown.add(key);
      } catch {
        out.unknown.add(key); // refused, reset or timed out: it may still commit
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  };
  const finished = Promise.all(Array.from({ length: clients }, (_, i) => writer(i, rand.fork()))).then(() => {});
  return { writes: out, finished };
}

/** The keys (last path segment) under ACKED_DIR that one member holds, read locally. */
export async function ackedKeysOn(clientUrl: string): Promise<Set<string>> {
  const res = await fetch(`${clientUrl}/v2/keys${ACKED_DIR}?recursive=true`, { signal: AbortSignal.timeout(10_000) });
  if (res.status === 404) return new Set();
  const body = (await res.json()) as { node?: { nodes?: { key: string }[] } };
  return new Set((body.node?.nodes ?? []).map((n) => n.key.slice(ACKED_DIR.length + 1)));
}

/** Acknowledged keys missing from `present`, and present keys no writer ever sent (both must be empty). */
export function compareAcked(writes: AckedWrites, present: Set<string>): { lost: string[]; phantom: string[] } {
  const lost = [...writes.acked].filter((k) => !present.has(k));
  const phantom = [...present].filter((k) => !writes.acked.has(k) && !writes.unknown.has(k));
  return { lost, phantom };
}
