import type { Operation } from './history.ts';

/**
 * Linearizability of key-value histories with the Wing & Gong / Lowe search (as Porcupine does
 * it): walk the history's events, tentatively linearize an operation at its call, backtrack at
 * a return that nothing explains, and memoize (linearized set, state) pairs so the search stays
 * polynomial in practice. Keys are independent registers, so each key is checked alone.
 */
export interface CheckResult {
  ok: boolean;
  keys: number;
  operations: number;
  /** For a failure: the key, and the operations around the point no order could explain. */
  violation?: { key: string; window: Operation[]; explanation: string };
}

type State = string | null;

function apply(state: State, op: Operation): [boolean, State] {
  const unknown = op.ret === Infinity;
  switch (op.kind) {
    case 'write':
      return [true, op.value ?? ''];
    case 'read':
      return [unknown || (op.output?.value ?? null) === state, state];
    case 'cas': {
      const matches = state === (op.expected ?? null);
      if (unknown) return [true, matches ? (op.value ?? '') : state];
      if (op.output?.ok) return [matches, matches ? (op.value ?? '') : state];
      return [!matches, state];
    }
  }
}

interface Node {
  op: number;
  isCall: boolean;
  time: number;
  prev: Node | null;
  next: Node | null;
  match: Node | null;
}

function buildList(ops: Operation[]): Node {
  const events: Node[] = [];
  ops.forEach((o, i) => {
    const call: Node = { op: i, isCall: true, time: o.call, prev: null, next: null, match: null };
    const ret: Node = { op: i, isCall: false, time: o.ret, prev: null, next: null, match: null };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls before returns at equal times: concurrent rather than ordered (the permissive choice).
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function describe(op: Operation): string {
  const when = `[${op.call.toFixed(1)}, ${op.ret === Infinity ? '∞' : op.ret.toFixed(1)}] ms`;
  switch (op.kind) {
    case 'write':
      return `client ${op.client} write ${op.key}=${op.value} ${when}`;
    case 'read':
      return `client ${op.client} read ${op.key} -> ${op.ret === Infinity ? '?' : JSON.stringify(op.output?.value ?? null)} ${when}`;
    case 'cas':
      return `client ${op.client} cas ${op.key} ${op.expected}->${op.value} ${op.ret === Infinity ? '?' : op.output?.ok ? 'ok' : 'failed'} ${when}`;
  }
}

function checkKey(key: string, ops: Operation[], initial: State): CheckResult['violation'] | null {
  if (ops.length === 0) return null;
  const head = buildList(ops);
  const linearized = new Uint8Array(ops.length);
  let bits = 0n;
  let state: State = initial;
  const cache = new Set<string>();
  const stack: { call: Node; state: State }[] = [];
  let deepest = 0;
  let blockedAt: Node | null = null;
  let entry = head.next;
  while (head.next !== null) {
    if (entry !== null && entry.isCall) {
      const op = ops[entry.op]!;
      const [ok, next] = apply(state, op);
      if (ok) {
        const nbits = bits | (1n << BigInt(entry.op));
        const k = `${nbits.toString(36)}|${next}`;
        if (!cache.has(k)) {
          cache.add(k);
          stack.push({ call: entry, state });
          linearized[entry.op] = 1;
          bits = nbits;
          state = next;
          lift(entry);
          if (stack.length > deepest) deepest = stack.length;
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      // A return nothing linearized before it (or the end, with calls left): backtrack.
      if (stack.length === 0) {
        blockedAt ??= entry;
        break;
      }
      if (entry && stack.length >= deepest) blockedAt = entry;
      const top = stack.pop()!;
      linearized[top.call.op] = 0;
      bits &= ~(1n << BigInt(top.call.op));
      state = top.state;
      unlift(top.call);
      entry = top.call.next;
    }
  }
  if (head.next === null) return null;
  const stuck = ops[blockedAt?.op ?? 0]!;
  const window = ops.filter((o) => o.call <= stuck.ret && o.ret >= stuck.call).sort((a, b) => a.call - b.call);
  return {
    key,
    window,
    explanation: `no order of these ${window.length} overlapping operations on ${key} is consistent with a single register (the search could place at most ${deepest} of ${ops.length} operations):\n  ` + window.map(describe).join('\n  '),
  };
}

export function checkLinearizable(history: Operation[], initial: Map<string, State> = new Map()): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  for (const [key, ops] of byKey) {
    const v = checkKey(key, ops, initial.get(key) ?? null);
    if (v) return { ok: false, keys: byKey.size, operations: history.length, violation: v };
  }
  return { ok: true, keys: byKey.size, operations: history.length };
}
