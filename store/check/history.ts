/** One client operation on a key-value register, as a history records it. */
export type OpKind = 'read' | 'write' | 'cas';

export interface Operation {
  client: number;
  key: string;
  kind: OpKind;
  /** write / cas: the value written. */
  value?: string;
  /** cas: the value expected. */
  expected?: string;
  /** When the client sent it (ms, any monotonic clock). */
  call: number;
  /** When the answer arrived; Infinity when it never did (timeout, crash): it may or may not have happened. */
  ret: number;
  /** read: the value seen (null = key absent); cas: whether it succeeded. Ignored when ret is Infinity. */
  output?: { value?: string | null; ok?: boolean };
}

/** A history recorder: call `invoke` before sending, then `ok` / `fail` / `unknown`. */
export class HistoryRecorder {
  readonly ops: Operation[] = [];
  private readonly t0 = performance.now();

  now(): number {
    return performance.now() - this.t0;
  }

  invoke(op: Omit<Operation, 'call' | 'ret'>): Operation {
    const full: Operation = { ...op, call: this.now(), ret: Infinity };
    this.ops.push(full);
    return full;
  }

  complete(op: Operation, output: Operation['output']): void {
    op.ret = this.now();
    op.output = output;
  }

  /** A definite failure (the store said no): the operation did not take effect. */
  discard(op: Operation): void {
    const i = this.ops.indexOf(op);
    if (i >= 0) this.ops.splice(i, 1);
  }
}
