import type { KvNode, KvResult } from '../kv-backend.ts';

export type OutputFormat = 'simple' | 'json' | 'extended';

/** Go's client.Node JSON, in its field order (what etcdctl -o json prints). */
function goNode(n: KvNode | undefined): unknown {
  if (!n) return null;
  const out: Record<string, unknown> = { key: n.key };
  if (n.dir) out.dir = true;
  out.value = n.value ?? '';
  out.nodes = n.nodes ? n.nodes.map(goNode) : null;
  out.createdIndex = n.createdIndex;
  out.modifiedIndex = n.modifiedIndex;
  if (n.expiration) out.expiration = n.expiration;
  if (n.ttl) out.ttl = n.ttl;
  return out;
}

/** What etcdctl prints for a key response in each output format. */
export function formatResult(r: KvResult, format: OutputFormat): string {
  const node = r.node;
  switch (format) {
    case 'simple':
      return r.action !== 'delete' ? `${node?.value ?? ''}\n` : `PrevNode.Value: ${r.prevNode?.value ?? ''}\n`;
    case 'extended': {
      const lines = [`Key: ${node?.key ?? ''}`, `Created-Index: ${node?.createdIndex ?? 0}`, `Modified-Index: ${node?.modifiedIndex ?? 0}`];
      if (r.prevNode) lines.push(`PrevNode.Value: ${r.prevNode.value ?? ''}`);
      lines.push(`TTL: ${node?.ttl ?? 0}`, `Index: ${r.etcdIndex}`);
      if (r.action !== 'delete') lines.push('', node?.value ?? '');
      return lines.join('\n') + '\n';
    }
    case 'json':
      return JSON.stringify({ action: r.action, node: goNode(node), prevNode: goNode(r.prevNode) }) + '\n';
  }
}
