/** Test harness for the real-Docker suite: a store of either kind, registrator processes, reads. */
import { resolve } from 'node:path';
import { startRealEtcd } from '../../lib/testing/etcd.ts';
import { GiveUp, startProcess, waitFor, type TestProcess } from '../../lib/testing/process.ts';
import { startCluster, type StoreKind } from '../../lib/testing/store-cluster.ts';

const berthBin = resolve(import.meta.dirname, '../../bin/berth');

/** A running store (one berth node or a real etcd 3.4 with v2 on). */
export interface TestStore {
  readonly kind: StoreKind;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startTestStore(kind: StoreKind): Promise<TestStore> {
  if (kind === 'etcd') {
    const etcd = await startRealEtcd();
    return { kind, url: etcd.url, stop: () => etcd.stop() };
  }
  const cluster = await startCluster('berth', 1);
  return { kind, url: cluster.clientUrls[0]!, stop: () => cluster.stop() };
}

/** `<name>/<id>` -> `ip:port` for every visible entry under `prefix` (hidden _meta excluded). */
export async function storeEntries(url: string, prefix = '/services'): Promise<Map<string, string>> {
  const res = await fetch(`${url}/v2/keys${prefix}?recursive=true`, { signal: AbortSignal.timeout(2000) });
  const out = new Map<string, string>();
  if (res.status === 404) return out;
  type Node = { key: string; value?: string; dir?: boolean; nodes?: Node[] };
  const body = (await res.json()) as { node?: Node };
  const walk = (n: Node) => {
    if (!n.dir) out.set(n.key.slice(prefix.length + 1), n.value ?? '');
    for (const c of n.nodes ?? []) walk(c);
  };
  for (const c of body.node?.nodes ?? []) walk(c);
  return out;
}

/** Starts `berth registrator` and resolves once it follows the event stream. */
export async function startRegistrator(url: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<TestProcess> {
  const proc = startProcess(process.execPath, [berthBin, 'registrator', ...args, `${url}/services`], {
    env: { ...process.env, BERTH_LOG_LEVEL: 'info', ...env },
  });
  await waitFor('registrator to follow docker events', () => {
    if (proc.child.exitCode !== null) throw new GiveUp(`registrator exited ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
    return proc.output().includes('following docker events');
  }, 20_000, 20);
  return proc;
}

/** Polls until `check` holds; returns the milliseconds it took. */
export async function timeUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<number> {
  const t0 = performance.now();
  await waitFor(what, check, timeoutMs, everyMs);
  return Math.round(performance.now() - t0);
}
