import type { NodeJSON } from '../kv/types.ts';
import type { KvNode, KvResult } from './kv-backend.ts';
import type { Action } from '../kv/types.ts';

/** etcd's node JSON to the client's KvNode (dir always present, key '/' for the root). */
export function toKvNode(n: NodeJSON): KvNode {
  const out: KvNode = { key: n.key ?? '/', dir: n.dir === true, modifiedIndex: n.modifiedIndex ?? 0, createdIndex: n.createdIndex ?? 0 };
  if (n.value !== undefined) out.value = n.value;
  if (n.ttl !== undefined) out.ttl = n.ttl;
  if (n.expiration !== undefined) out.expiration = n.expiration;
  if (n.nodes) out.nodes = n.nodes.map(toKvNode);
  return out;
}

export function toKvResult(body: { action: Action; node?: NodeJSON; prevNode?: NodeJSON }, etcdIndex: number, raftIndex?: number, raftTerm?: number): KvResult {
  const r: KvResult = { action: body.action, etcdIndex };
  if (body.node) r.node = toKvNode(body.node);
  if (body.prevNode) r.prevNode = toKvNode(body.prevNode);
  if (raftIndex !== undefined) r.raftIndex = raftIndex;
  if (raftTerm !== undefined) r.raftTerm = raftTerm;
  return r;
}
