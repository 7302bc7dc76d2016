import type { KvNodeView } from './types.ts';
import { baseName } from './path.ts';

/** A file or directory of the keyspace. Directories have `children`; files have `value`. */
export class TreeNode {
  /** Position in the TTL heap, -1 when not there. */
  heapIndex = -1;

  constructor(
    public path: string,
    public createdIndex: number,
    public modifiedIndex: number,
    public parent: TreeNode | null,
    public expireAtMs: number | null,
    public value: string,
    public children: Map<string, TreeNode> | null,
  ) {}

  static file(path: string, value: string, index: number, parent: TreeNode | null, expireAtMs: number | null): TreeNode {
    return new TreeNode(path, index, index, parent, expireAtMs, value, null);
  }

  static dir(path: string, index: number, parent: TreeNode | null, expireAtMs: number | null): TreeNode {
    return new TreeNode(path, index, index, parent, expireAtMs, '', new Map());
  }

  get isDir(): boolean {
    return this.children !== null;
  }

  get name(): string {
    return baseName(this.path);
  }

  /** Hidden nodes ("_name") are left out of directory listings. */
  get isHidden(): boolean {
    return this.name.startsWith('_');
  }

  /**
   * The node as an API view. A directory lists its visible children when `withChildren`
   * (one level, or all levels when `recursive`), sorted by key when `sorted`.
   */
  view(withChildren: boolean, recursive: boolean, sorted: boolean): KvNodeView {
    const v: KvNodeView = {
      key: this.path,
      dir: this.isDir,
      expireAtMs: this.expireAtMs,
      modifiedIndex: this.modifiedIndex,
      createdIndex: this.createdIndex,
    };
    if (!this.children) {
      v.value = this.value;
      return v;
    }
    if (withChildren) {
      const nodes: KvNodeView[] = [];
      for (const child of this.children.values()) {
        if (!child.isHidden) nodes.push(child.view(recursive, recursive, sorted));
      }
      if (sorted) nodes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      v.nodes = nodes;
    }
    return v;
  }
}
