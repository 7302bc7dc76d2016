import type { KvNode } from '../kv-backend.ts';

/** A store directory as a plain object: subdirectories are objects, keys are strings. */
export interface ConfigTree {
  [name: string]: string | ConfigTree;
}

/** The path of `key` below `dir` as components; null when outside it or hidden (`_name`). */
export function relativePath(dir: string, key: string): string[] | null {
  const base = dir.replace(/\/+$/, '');
  if (key !== base && !key.startsWith(base + '/')) return null;
  const parts = key.slice(base.length).split('/').filter(Boolean);
  return parts.some((p) => p.startsWith('_')) ? null : parts;
}

/** Builds the tree of a recursive GET's node. */
export function treeOf(dir: string, node: KvNode | undefined): ConfigTree {
  const tree: ConfigTree = {};
  const visit = (n: KvNode) => {
    const path = relativePath(dir, n.key);
    if (!path || path.length === 0) {
      n.nodes?.forEach(visit);
      return;
    }
    if (n.dir) ensureDir(tree, path);
    else setLeaf(tree, path, n.value ?? '');
    n.nodes?.forEach(visit);
  };
  if (node) visit(node);
  return tree;
}

/** The subtree at `path`, created (replacing a leaf) where missing. */
export function ensureDir(tree: ConfigTree, path: string[]): ConfigTree {
  let at = tree;
  for (const p of path) {
    const next = at[p];
    if (typeof next !== 'object') at[p] = {};
    at = at[p] as ConfigTree;
  }
  return at;
}

/** Sets a leaf; returns the previous value (undefined if none). */
export function setLeaf(tree: ConfigTree, path: string[], value: string): string | undefined {
  const parent = ensureDir(tree, path.slice(0, -1));
  const name = path[path.length - 1]!;
  const prev = parent[name];
  parent[name] = value;
  return typeof prev === 'string' ? prev : undefined;
}

/** Removes a leaf or subtree; returns every removed leaf as [path, value]. */
export function remove(tree: ConfigTree, path: string[]): [string, string][] {
  let parent: ConfigTree | undefined = tree;
  for (const p of path.slice(0, -1)) {
    const next: string | ConfigTree | undefined = parent[p];
    if (typeof next !== 'object') return [];
    parent = next;
  }
  const name = path[path.length - 1]!;
  const gone = parent[name];
  if (gone === undefined) return [];
  delete parent[name];
  return leaves(typeof gone === 'string' ? gone : gone, path);
}

/** Every leaf below `at` as [slash-joined path, value]. */
export function leaves(at: string | ConfigTree, prefix: string[] = []): [string, string][] {
  if (typeof at === 'string') return [[prefix.join('/'), at]];
  return Object.entries(at).flatMap(([k, v]) => leaves(v, [...prefix, k]));
}

/** A deep copy, so callers can keep a snapshot the watcher will not mutate. */
export function cloneTree(tree: ConfigTree): ConfigTree {
  return structuredClone(tree);
}
