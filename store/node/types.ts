/**
 * The contract between the HTTP server (store/server) and the node driver (store/node).
 * The server parses and validates requests; the node orders writes through raft and applies
 * them to the keyspace; the server formats the results.
 */
import type { AuthStore } from '../auth/auth-store.ts';
import type { AuthCommand, AuthResult } from '../auth/types.ts';
import type { KeyspaceApi, KvCommand, KvEvent } from '../kv/types.ts';
import type { NodeId, StateType } from '../raft/types.ts';

export interface Member {
  id: NodeId;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export interface FollowerStats {
  latency: { current: number; average: number; standardDeviation: number; minimum: number; maximum: number };
  counts: { fail: number; success: number };
}

export interface NodeStatus {
  id: NodeId;
  name: string;
  clusterId: string;
  state: StateType;
  leaderId: NodeId;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  startTime: Date;
  /** When this member last saw the leader change (for leaderInfo.uptime). */
  leaderSince: Date;
  recvAppendRequestCnt: number;
  sendAppendRequestCnt: number;
}

export interface StoreNode {
  /** The local keyspace: reads and watches are served from it directly. */
  readonly keyspace: KeyspaceApi;
  /**
   * Orders a write through raft (a follower forwards it to the leader) and resolves once it
   * is committed and applied locally, with the keyspace's result. Rejects with the EtcdError
   * the keyspace raised, or EtcdError 300 on timeout / shutdown.
   */
  propose(cmd: KvCommand): Promise<KvEvent>;
  /** Users, roles and the auth switch as applied so far (read-only use). */
  readonly auth: Pick<AuthStore, 'enabled' | 'getUser' | 'getRole' | 'findUser' | 'findRole' | 'userNames' | 'roleNames'>;
  /** Orders an auth change through raft; rejects with the AuthError etcd would answer. */
  proposeAuth(cmd: AuthCommand): Promise<AuthResult>;
  /** Resolves when the local keyspace reflects every write committed before the call (ReadIndex). */
  readBarrier(): Promise<void>;
  status(): NodeStatus;
  /** X-Raft-Index: the last applied entry (status().appliedIndex, without building the status). */
  readonly raftIndex: number;
  /** X-Raft-Term: raft's current term (status().term, likewise). */
  readonly raftTerm: number;
  members(): Member[];
  addMember(peerURLs: string[], learner?: boolean): Promise<Member>;
  removeMember(id: NodeId): Promise<void>;
  updateMember(id: NodeId, peerURLs: string[]): Promise<void>;
  /** Only on the leader: per-follower latency and counts. */
  followerStats(): Map<NodeId, FollowerStats> | null;
  /** Finishes in-flight writes, flushes the WAL, closes peers. */
  stop(): Promise<void>;
}
