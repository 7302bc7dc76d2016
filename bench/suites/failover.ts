import { startCluster } from '../../lib/testing/store-cluster.ts';
import { percentile } from '../load.ts';
import type { Progress } from '../progress.ts';
import type { BenchSettings, Row } from '../types.ts';

const PROBE_EVERY_MS = 5;
const PROBE_TIMEOUT_MS = 2000;

/**
 * Kills the leader of a fresh 3-node cluster with SIGKILL and measures until the first write
 * sent after the kill is acknowledged by a survivor. Probes go every few ms to the survivors,
 * so the figure is the outage as a client sees it (election + first commit), not a log line.
 */
async function oneFailover(kind: 'berth' | 'etcd', electionMs: number): Promise<number> {
  const cluster = await startCluster(kind, 3, { heartbeatMs: 100, electionMs });
  try {
    const leaderUrl = await cluster.leaderUrl();
    const leader = cluster.members.find((m) => m.clientUrl === leaderUrl)!;
    const survivors = cluster.members.filter((m) => m !== leader).map((m) => m.clientUrl);
    const killedAt = performance.now();
    await cluster.kill(leader.name, 'SIGKILL');
    return await new Promise<number>((resolve, reject) => {
      let done = false;
      let n = 0;
      const giveUp = setTimeout(() => finish(new Error(`${kind}: no write acknowledged within 30 s of the leader's death`)), 30_000);
      const finish = (r: number | Error) => {
        if (done) return;
        done = true;
        clearInterval(timer);
        clearTimeout(giveUp);
        if (typeof r === 'number') resolve(r);
        else reject(r);
      };
      const timer = setInterval(() => {
        const url = survivors[n++ % survivors.length]!;
        fetch(`${url}/v2/keys/failover/p${n}`, { method: 'PUT', body: new URLSearchParams({ value: 'x' }), signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
          .then(async (res) => {
            await res.arrayBuffer();
            if (res.status < 300) finish(performance.now() - killedAt);
          })
          .catch(() => {});
      }, PROBE_EVERY_MS);
    });
  } finally {
    await cluster.stop();
  }
}

export async function failoverSuite(settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const runs = settings.quick ? 3 : 20;
  const electionMs = 1000;
  const row: Row = { suite: '3 nodes', name: `failover: leader SIGKILL → first ack write (median of ${runs})`, lowerIsBetter: true, results: {} };
  const samples = new Map<string, number[]>(settings.kinds.map((k) => [k, []]));
  // Runs alternate between the stores, so a busy moment on the machine hits both alike.
  for (let i = 0; i < runs; i++) {
    for (const kind of settings.kinds) {
      progress.start(`failover ${i + 1}/${runs} on ${kind}`);
      const ms = await oneFailover(kind, electionMs);
      samples.get(kind)!.push(ms);
      progress.done(`${ms.toFixed(0)} ms`);
    }
  }
  for (const kind of settings.kinds) {
    const sorted = Float64Array.from(samples.get(kind)!).sort();
    row.results[kind] = { value: percentile(sorted, 50), unit: 'ms', p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
  }
  return [row];
}
