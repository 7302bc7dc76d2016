import type { TreeNode } from './tree-node.ts';

/** A binary min-heap of nodes by expiry time, with O(log n) removal and update. */
export class TtlHeap {
  private readonly items: TreeNode[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): TreeNode | undefined {
    return this.items[0];
  }

  push(n: TreeNode): void {
    n.heapIndex = this.items.length;
    this.items.push(n);
    this.up(n.heapIndex);
  }

  remove(n: TreeNode): void {
    const i = n.heapIndex;
    if (i < 0 || this.items[i] !== n) return;
    const last = this.items.pop()!;
    n.heapIndex = -1;
    if (i < this.items.length) {
      this.items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  update(n: TreeNode): void {
    if (n.heapIndex < 0) return this.push(n);
    this.down(n.heapIndex);
    this.up(n.heapIndex);
  }

  clear(): void {
    for (const n of this.items) n.heapIndex = -1;
    this.items.length = 0;
  }

  private less(a: number, b: number): boolean {
    return this.items[a]!.expireAtMs! < this.items[b]!.expireAtMs!;
  }

  private swap(a: number, b: number): void {
    const x = this.items[a]!;
    const y = this.items[b]!;
    this.items[a] = y;
    this.items[b] = x;
    x.heapIndex = b;
    y.heapIndex = a;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
