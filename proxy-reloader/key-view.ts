/**
 * A flat, mutable key -> value copy of watched store directories, built from one recursive read
 * and kept current by applying watch events in index order. Pure (no I/O).
 */
import type { KvNode, KvResult } from '../store/client/kv-backend.ts';

/** Every leaf (non-directory) key below `node`, with its value. */
export function flattenNode(node: KvNode | undefined, into: Map<string, string> = new Map()): Map<string, string> {
  if (!node) return into;
  if (!node.dir) {
    into.set(node.key, node.value ?? '');
    return into;
  }
  for (const child of node.nodes ?? []) flattenNode(child, into);
  return into;
}

function removeTree(keys: Map<string, string>, key: string, keepHidden = false): boolean {
  let changed = keys.delete(key);
  const prefix = key.endsWith('/') ? key : key + '/';
  for (const k of [...keys.keys()]) {
    if (k.startsWith(prefix) && !(keepHidden && k.slice(prefix.length).split('/').some((s) => s.startsWith('_')))) {
      keys.delete(k);
      changed = true;
    }
  }
  return changed;
}

/**
 * Replaces everything under `prefix` with the leaves of `node` (a fresh recursive read). Hidden
 * keys below it are kept: a recursive read never shows them, their own watch owns them.
 */
export function replacePrefix(keys: Map<string, string>, prefix: string, node: KvNode | undefined): void {
  removeTree(keys, prefix, true);
  for (const [k, v] of flattenNode(node)) keys.set(k, v);
}

/** Applies one watch event; returns whether the view changed. */
export function applyEvent(keys: Map<string, string>, ev: KvResult): boolean {
  const node = ev.node;
  if (!node) return false;
  switch (ev.action) {
    case 'delete':
    case 'expire':
    case 'compareAndDelete':
      return removeTree(keys, node.key);
    case 'set':
    case 'create':
    case 'update':
    case 'compareAndSwap': {
      if (node.dir) {
        // A set on a directory with dir=true over an existing dir is a no-op; over a file it replaces it.
        return keys.delete(node.key);
      }
      const value = node.value ?? '';
      if (keys.get(node.key) === value) return false;
      removeTree(keys, node.key);
      keys.set(node.key, value);
      return true;
    }
    default:
      return false;
  }
}
