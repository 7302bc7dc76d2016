import type { Registry } from 'prom-client';
import type { Logger } from '../../../lib/log.ts';
import type { StoreNode } from '../../node/types.ts';
import { StateType } from '../../raft/types.ts';
import { BERTH_VERSION } from '../../../lib/version.ts';

/** One second of the cluster as the page shows it (the browser's ClusterSample). */
export interface ClusterSample {
  time: number;
  servedBy: string;
  leaderId: string | null;
  members: {
    id: string;
    name: string;
    clientURLs: string[];
    reachable: boolean;
    state?: string;
    term?: number;
    commitIndex?: number;
    appliedIndex?: number;
    version?: string;
  }[];
  followers: {
    id: string;
    name: string;
    latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number };
    counts: { success: number; fail: number };
  }[];
  store: { writes: number; reads: number; watchers: number } | null;
  fsync: { sum: number; count: number } | null;
}

interface SelfStats {
  id: string;
  name: string;
  state: string;
  leaderInfo?: { leader: string };
}
interface LeaderStats {
  leader: string;
  followers: Record<string, { latency: ClusterSample['followers'][number]['latency']; counts: { success: number; fail: number } }>;
}

const PEER_TIMEOUT_MS = 800;
export const hexId = (id: number) => id.toString(16);

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/**
 * Gathers a sample: this member's own view from the node, the other members' over their
 * client URLs, and follower latencies from whoever leads (the page served by a follower shows
 * the leader's view).
 */
export class ClusterSampler {
  constructor(
    private readonly node: StoreNode,
    private readonly metrics: Registry | undefined,
    private readonly logger: Logger,
  ) {}

  async sample(): Promise<ClusterSample> {
    const status = this.node.status();
    const members = await Promise.all(
      this.node.members().map(async (m) => {
        const id = hexId(m.id);
        if (m.id === status.id) {
          return { id, name: m.name || status.name, clientURLs: m.clientURLs, reachable: true, state: status.state, term: status.term, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex, version: `berth ${BERTH_VERSION}` };
        }
        const url = m.clientURLs[0];
        if (!url) return { id, name: m.name, clientURLs: m.clientURLs, reachable: false };
        try {
          const [self, version] = await Promise.all([getJson<SelfStats & { term?: number; commitIndex?: number; appliedIndex?: number }>(`${url}/v2/stats/self`), getJson<{ etcdserver: string; berth?: string }>(`${url}/version`)]);
          return { id, name: m.name || self.name, clientURLs: m.clientURLs, reachable: true, state: self.state, term: self.term, commitIndex: self.commitIndex, appliedIndex: self.appliedIndex, version: version.berth ? `berth ${version.berth}` : `etcd ${version.etcdserver}` };
        } catch {
          return { id, name: m.name, clientURLs: m.clientURLs, reachable: false };
        }
      }),
    );
    const leaderId = status.leaderId ? hexId(status.leaderId) : null;
    const followers = await this.followers(status.state === StateType.Leader, leaderId, members);
    const st = this.node.keyspace.stats();
    return {
      time: Date.now(),
      servedBy: status.name,
      leaderId,
      members,
      followers,
      store: {
        writes: st.setsSuccess + st.createSuccess + st.updateSuccess + st.deleteSuccess + st.compareAndSwapSuccess + st.compareAndDeleteSuccess,
        reads: st.getsSuccess + st.getsFail,
        watchers: st.watchers,
      },
      fsync: await this.fsync(),
    };
  }

  private async followers(isLeader: boolean, leaderId: string | null, members: ClusterSample['members']): Promise<ClusterSample['followers']> {
    const names = new Map(members.map((m) => [m.id, m.name]));
    let stats: LeaderStats['followers'] = {};
    if (isLeader) {
      for (const [id, f] of this.node.followerStats() ?? new Map()) stats[hexId(id)] = f;
    } else if (leaderId) {
      const url = members.find((m) => m.id === leaderId)?.clientURLs[0];
      if (url) {
        try {
          stats = (await getJson<LeaderStats>(`${url}/v2/stats/leader`)).followers ?? {};
        } catch (e) {
          this.logger.debug({ err: String(e) }, 'dashboard: leader stats unavailable');
        }
      }
    }
    return Object.entries(stats).map(([id, f]) => ({ id, name: names.get(id) ?? id, latency: f.latency, counts: f.counts }));
  }

  private async fsync(): Promise<ClusterSample['fsync']> {
    const metric = this.metrics?.getSingleMetric('etcd_disk_wal_fsync_duration_seconds');
    if (!metric) return null;
    const data = await metric.get();
    let sum = 0;
    let count = 0;
    for (const v of data.values) {
      const name = (v as { metricName?: string }).metricName ?? '';
      if (name.endsWith('_sum')) sum += v.value;
      if (name.endsWith('_count')) count += v.value;
    }
    return { sum, count };
  }
}
