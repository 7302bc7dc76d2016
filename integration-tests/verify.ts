import { waitFor } from '../lib/testing/process.ts';
import { HistoryRecorder } from '../store/check/history.ts';
import { checkLinearizable, type CheckResult } from '../store/check/linearizability.ts';
import { KEYS } from '../store/cluster-tests/workload.ts';
import { ackedKeysOn, compareAcked, type AckedWrites } from './acked-writes.ts';
import type { BerthCluster } from './berth-cluster.ts';

/** The verdict on a run: linearizability of the history and acknowledged writes on every member. */
export interface Verdict {
  linearizability: CheckResult;
  /** The most acknowledged keys any one member lacks. */
  lostWrites: number;
  /** Keys present that no writer sent or every writer saw refused. */
  phantomWrites: number;
  /** One line per problem, for the assertion message. */
  problems: string[];
}

/** Every key under / on one member (local read) as `key=value@modifiedIndex` lines, for comparing members. */
export async function keyspaceOf(url: string): Promise<string> {
  const res = await fetch(`${url}/v2/keys/?recursive=true&sorted=true`, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { node?: { nodes?: unknown[] } };
  const flat: string[] = [];
  const walk = (nodes: unknown[] | undefined) => {
    for (const n of (nodes ?? []) as { key: string; value?: string; modifiedIndex: number; nodes?: unknown[] }[]) {
      flat.push(`${n.key}=${n.value ?? '<dir>'}@${n.modifiedIndex}`);
      walk(n.nodes);
    }
  };
  walk(body.node?.nodes);
  return flat.join('\n');
}

/**
 * After the clients stopped and the cluster healed: waits until every member holds the same
 * keys, values and indexes; adds a quorum read of every workload key on every member to the
 * history (a lost acknowledged write then breaks linearizability); checks the history; and
 * counts acknowledged keys missing on each member.
 */
export async function verifyRun(cluster: BerthCluster, history: HistoryRecorder, writes: AckedWrites): Promise<Verdict> {
  const members = cluster.members.filter((m) => !m.removed);
  let views: string[] = [];
  try {
    await waitFor('every member to hold the same data', async () => {
      views = await Promise.all(members.map((m) => keyspaceOf(m.clientUrl).catch((e: Error) => `unreachable: ${e.message}`)));
      return new Set(views).size === 1;
    }, 30_000, 200);
  } catch (e) {
    // Say how the members differ: one lagging behind (liveness) reads differently from two
    // holding different values at the same index (safety).
    const logs = await Promise.all(members.map((m) => cluster.logs(m.index, 30).catch((err: Error) => `(no log: ${err.message})`)));
    const rafts = await Promise.all(members.map((m) => describeRaft(m.clientUrl)));
    const perMember = members.map((m, i) => `  ${m.name}: ${describeView(views[i] ?? '')}\n    ${rafts[i]}\n    last log lines:\n${logs[i]!.trimEnd().replace(/^/gm, '      ')}`);
    throw new Error(`${(e as Error).message}\n${perMember.join('\n')}\n  first difference: ${firstDifference(views)}`);
  }
  for (const m of members) {
    for (const key of KEYS) {
      const op = history.invoke({ client: 1000 + m.index, key, kind: 'read' });
      const res = await fetch(`${m.clientUrl}/v2/keys${key}?quorum=true`, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { node?: { value?: string } };
      history.complete(op, { value: res.status === 200 ? (body.node?.value ?? null) : null });
    }
  }
  const linearizability = checkLinearizable(history.ops);
  const problems: string[] = [];
  if (!linearizability.ok) problems.push(linearizability.violation?.explanation ?? 'not linearizable');
  let lostWrites = 0;
  let phantomWrites = 0;
  for (const m of members) {
    const { lost, phantom } = compareAcked(writes, await ackedKeysOn(m.clientUrl));
    lostWrites = Math.max(lostWrites, lost.length);
    phantomWrites = Math.max(phantomWrites, phantom.length);
    if (lost.length) problems.push(`${m.name} lacks ${lost.length} acknowledged keys: ${lost.slice(0, 10).join(', ')}`);
    if (phantom.length) problems.push(`${m.name} holds ${phantom.length} keys no write produced: ${phantom.slice(0, 10).join(', ')}`);
  }
  return { linearizability, lostWrites, phantomWrites, problems };
}

/** "N keys, highest index I" for a keyspaceOf() view, or the reason it could not be read. */
function describeView(view: string): string {
  if (view.startsWith('unreachable')) return view;
  const lines = view === '' ? [] : view.split('\n');
  const highest = Math.max(0, ...lines.map((l) => Number(l.slice(l.lastIndexOf('@') + 1)) || 0));
  return `${lines.length} keys, highest modifiedIndex ${highest}`;
}

/**
 * What a member's raft says (GET /v2/stats/self, and /v2/stats/leader on the leader), and the
 * signs of life of its Ready loop and peer links (/metrics). A follower whose Ready loop stopped
 * keeps stepping its leader's appends, so its commit index runs ahead of its applied one, its
 * Readies handled stop moving and its Ready in hand grows old; one whose answers do not reach the
 * leader applies all it knows is committed, and the leader's view of it shows no answers and a
 * link silent for long.
 */
async function describeRaft(url: string): Promise<string> {
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  try {
    const self = await get('/v2/stats/self');
    const leaderInfo = self.leaderInfo as { leader: string };
    let line = `raft: ${self.state} ${self.id}, term ${self.term}, leader ${leaderInfo.leader}, commit ${self.commitIndex}, applied ${self.appliedIndex}, appends received ${self.recvAppendRequestCnt}, sent ${self.sendAppendRequestCnt}`;
    if (self.state === 'StateLeader') line += `; followers ${JSON.stringify((await get('/v2/stats/leader')).followers)}`;
    const liveness = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.text())
      .then((text) => text.split('\n').filter((l) => /^berth_(raft_ready|peer_link_silent)/.test(l)).join('; '), (e: unknown) => `metrics unreadable (${(e as Error).message})`);
    return `${line}\n    ${liveness}`;
  } catch (e) {
    return `raft: unreadable (${(e as Error).message})`;
  }
}

/** The first key line on which two members' views disagree. */
function firstDifference(views: string[]): string {
  const split = views.map((v) => v.split('\n'));
  const longest = Math.max(0, ...split.map((l) => l.length));
  for (let i = 0; i < longest; i++) {
    const at = new Set(split.map((l) => l[i] ?? '<none>'));
    if (at.size > 1) return [...at].join(' | ');
  }
  return 'none';
}
