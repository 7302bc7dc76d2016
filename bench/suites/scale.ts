import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startCluster, type StoreCluster } from '../../lib/testing/store-cluster.ts';
import type { Progress } from '../progress.ts';
import type { BenchSettings, Row } from '../types.ts';
import { preload } from '../workloads.ts';
import { waitFor } from '../../lib/testing/process.ts';

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) * 1024;
}

/**
 * Bytes of every file under a directory named `snap` (etcd: member/snap; berth: snap), or null
 * while a snapshot is still being written (a `.tmp` file, or a file gone between listing and
 * stat): berth writes its snapshot file while it goes on serving.
 */
async function snapshotBytes(dir: string, inSnap = false): Promise<number | null> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = await snapshotBytes(p, inSnap || entry.name === 'snap');
      if (sub === null) return null;
      total += sub;
    } else if (inSnap && entry.isFile()) {
      if (entry.name.endsWith('.tmp')) return null;
      const size = await stat(p).then((st) => st.size, () => null);
      if (size === null) return null;
      total += size;
    }
  }
  return total;
}

/** Snapshot bytes once no snapshot is being written. */
async function settledSnapshotBytes(dir: string): Promise<number> {
  let bytes: number | null = null;
  await waitFor(`snapshot files under ${dir} to settle`, async () => (bytes = await snapshotBytes(dir)) !== null, 60_000, 20);
  return bytes!;
}

async function recoveryMs(cluster: StoreCluster, lastKey: string): Promise<number> {
  const m = cluster.members[0]!;
  await m.process.stop('SIGTERM');
  const t0 = performance.now();
  await cluster.restart(m.name);
  await waitFor('the last key after restart', async () => {
    const res = await fetch(`${m.clientUrl}/v2/keys/bench/${lastKey}`);
    await res.arrayBuffer();
    return res.status === 200;
  }, 600_000, 10);
  return performance.now() - t0;
}

export async function scaleSuite(settings: BenchSettings, progress: Progress): Promise<Row[]> {
  const sizes = settings.quick ? [10_000] : [10_000, 100_000, 1_000_000];
  const rows: Row[] = [];
  for (const keys of sizes) {
    const rss: Row = { suite: 'scale', name: `RSS with ${keys.toLocaleString('en')} keys of 64 B`, lowerIsBetter: true, results: {} };
    const snap: Row = { suite: 'scale', name: `snapshot bytes, ${keys.toLocaleString('en')} keys`, lowerIsBetter: true, results: {} };
    const rec: Row = { suite: 'scale', name: `restart to serving, ${keys.toLocaleString('en')} keys`, lowerIsBetter: true, results: {} };
    for (const kind of settings.kinds) {
      progress.start(`scale: ${keys} keys on ${kind}`);
      const cluster = await startCluster(kind, 1);
      try {
        await preload(cluster.clientUrls[0]!, keys, 64, 128);
        progress.update(0.6);
        rss.results[kind] = { value: (await rssBytes(cluster.members[0]!.process.pid)) / 2 ** 20, unit: 'MiB' };
        snap.results[kind] = { value: (await settledSnapshotBytes(cluster.members[0]!.dataDir)) / 2 ** 20, unit: 'MiB' };
        rec.results[kind] = { value: await recoveryMs(cluster, `k${keys - 1}`), unit: 'ms' };
        progress.done(`RSS ${rss.results[kind]!.value.toFixed(1)} MiB, snapshot ${snap.results[kind]!.value.toFixed(1)} MiB, restart ${rec.results[kind]!.value.toFixed(0)} ms`);
      } finally {
        await cluster.stop();
      }
    }
    rows.push(rss, snap, rec);
  }
  return rows;
}
