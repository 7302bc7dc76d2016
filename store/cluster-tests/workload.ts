import { Rand } from '../../lib/rand.ts';
import { HistoryRecorder, type Operation } from '../check/history.ts';

const KEYS = ['/lin/a', '/lin/b', '/lin/c'];
const TIMEOUT_MS = 3000;

/** Outcome of one HTTP attempt: a definite answer, "never reached the store", or unknown. */
type Outcome = { kind: 'answer'; status: number; body: { node?: { value?: string }; errorCode?: number } } | { kind: 'refused' } | { kind: 'unknown' };

async function send(url: string, init: RequestInit): Promise<Outcome> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as { node?: { value?: string }; errorCode?: number };
    // 5xx from the store (timeouts, lost leader) may still commit later: unknown.
    if (res.status >= 500) return { kind: 'unknown' };
    return { kind: 'answer', status: res.status, body };
  } catch (e) {
    const code = (e as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'unknown' };
  }
}

/** What the clients need of a cluster: its members' client URLs and which ones are up. */
export interface WorkloadTarget {
  readonly members: readonly { readonly clientUrl: string; readonly alive: boolean; readonly paused: boolean }[];
}

/**
 * Clients doing quorum reads, writes and CAS on three keys against random live members, each
 * operation recorded with its call and return times; runs until `stop` is set.
 */
export async function runClients(cluster: WorkloadTarget, history: HistoryRecorder, rand: Rand, clients: number, stop: { done: boolean }): Promise<{ acked: number }> {
  let acked = 0;
  let written = 0;
  const client = async (id: number, r: Rand) => {
    while (!stop.done) {
      const live = cluster.members.filter((m) => m.alive && !m.paused);
      const m = r.pick(live.length ? live : cluster.members);
      const key = r.pick(KEYS);
      const url = `${m.clientUrl}/v2/keys${key}`;
      const choice = r.int(10);
      let op: Operation;
      let outcome: Outcome;
      if (choice < 4) {
        op = history.invoke({ client: id, key, kind: 'read' });
        outcome = await send(`${url}?quorum=true`, {});
        if (outcome.kind === 'answer') {
          if (outcome.status === 200) history.complete(op, { value: outcome.body.node?.value ?? null });
          else if (outcome.body.errorCode === 100) history.complete(op, { value: null });
          else history.discard(op);
        }
      } else if (choice < 7) {
        const value = `w${id}-${written++}`;
        op = history.invoke({ client: id, key, kind: 'write', value });
        outcome = await send(url, { method: 'PUT', body: new URLSearchParams({ value }) });
        if (outcome.kind === 'answer') {
          if (outcome.status < 300) {
            history.complete(op, {});
            acked++;
          } else history.discard(op);
        }
      } else {
        const expected = `w${r.int(clients)}-${r.int(Math.max(1, written))}`;
        const value = `c${id}-${written++}`;
        op = history.invoke({ client: id, key, kind: 'cas', expected, value });
        outcome = await send(url, { method: 'PUT', body: new URLSearchParams({ value, prevValue: expected }) });
        if (outcome.kind === 'answer') {
          if (outcome.status < 300) {
            history.complete(op, { ok: true });
            acked++;
          } else if (outcome.body.errorCode === 101 || outcome.body.errorCode === 100) history.complete(op, { ok: false });
          else history.discard(op);
        }
      }
      if (outcome.kind === 'refused') history.discard(op);
      if (outcome.kind !== 'answer') await new Promise((res) => setTimeout(res, 20));
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i, rand.fork())));
  return { acked };
}

export { KEYS };
