import type { Message, NodeId } from '../raft/types.ts';
import type { FollowerStats } from './types.ts';

/** What the peer network reports back to the node. */
export interface PeerEvents {
  onMessage(m: Message): void;
  /** A message to `id` could not be sent (raft then probes it more gently). */
  onUnreachable(id: NodeId): void;
  onSnapshotStatus(id: NodeId, ok: boolean): void;
  /** Peer `id`'s process is gone (connections refused): a follower of it may campaign early. */
  onPeerDown(id: NodeId): void;
}

/** What the node needs from the peer network (store/transport implements it over TCP). */
export interface PeerTransport {
  /** Sends messages, batching those for the same peer; never blocks. */
  send(msgs: Message[]): void;
  addPeer(id: NodeId, urls: string[]): void;
  removePeer(id: NodeId): void;
  updatePeer(id: NodeId, urls: string[]): void;
  /** Round-trip and delivery counts per peer, for /v2/stats/leader. */
  stats(): Map<NodeId, FollowerStats>;
  stop(): Promise<void>;
}
