import { createHash } from 'node:crypto';
import type { Member } from './types.ts';
import type { NodeId } from '../raft/types.ts';

/** A uint53 from the first bytes of a SHA-1, so ids are stable for the same inputs (as etcd's). */
function hashId(parts: string[]): number {
  const h = createHash('sha1').update(parts.join('\n')).digest();
  const id = h.readUIntBE(0, 6) * 32 + (h[6]! >> 3);
  return id === 0 ? 1 : id;
}

/** A member's id from its peer URLs and the cluster token, as etcd derives it. */
export function memberIdFor(peerURLs: string[], clusterToken: string): NodeId {
  return hashId([...peerURLs].sort().concat(clusterToken));
}

/** The cluster's id from its initial members' ids. */
export function clusterIdFor(memberIds: NodeId[]): string {
  return hashId([...memberIds].sort((a, b) => a - b).map(String)).toString(16);
}

export interface InitialMember {
  name: string;
  peerURLs: string[];
}

/** `a=http://h:2380,a=http://h2:2380,b=...` -> members in order of first appearance. */
export function parseInitialCluster(spec: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`"${part}" is not name=URL`);
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new Error(`"${url}" is not an http(s)://host:port URL`);
    byName.set(name, [...(byName.get(name) ?? []), url.replace(/\/$/, '')]);
  }
  return [...byName].map(([name, peerURLs]) => ({ name, peerURLs }));
}

/** The members the node knows, kept in raft snapshots and changed by conf-change entries. */
export class MemberRegistry {
  private readonly byId = new Map<NodeId, Member>();
  /** Removed ids can never come back (etcd: "member permanently removed"). */
  private readonly removed = new Set<NodeId>();

  list(): Member[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id).map((m) => ({ ...m, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] }));
  }

  get(id: NodeId): Member | undefined {
    return this.byId.get(id);
  }

  upsert(m: Member): void {
    this.byId.set(m.id, { ...m });
  }

  remove(id: NodeId): void {
    this.byId.delete(id);
    this.removed.add(id);
  }

  isRemoved(id: NodeId): boolean {
    return this.removed.has(id);
  }

  toJSON(): { members: Member[]; removed: NodeId[] } {
    return { members: this.list(), removed: [...this.removed] };
  }

  restore(data: { members: Member[]; removed: NodeId[] }): void {
    this.byId.clear();
    this.removed.clear();
    for (const m of data.members) this.byId.set(m.id, m);
    for (const id of data.removed) this.removed.add(id);
  }
}
