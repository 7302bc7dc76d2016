import type { KvEvent, KvNodeView, NodeJSON } from './types.ts';

/** Go's RFC3339Nano for a UTC time in ms: fractional zeros trimmed, no fraction when whole. */
export function formatExpiration(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  const [head, frac] = iso.slice(0, -1).split('.');
  const trimmed = (frac ?? '').replace(/0+$/, '');
  return trimmed ? `${head}.${trimmed}Z` : `${head}Z`;
}

/** Seconds left, rounded up as etcd does (1..n while alive; 0 or less once due). */
export function ttlSeconds(expireAtMs: number, nowMs: number): number {
  return Math.ceil((expireAtMs - nowMs) / 1000);
}

/** A node in etcd's JSON shape and field order; `ttl` is computed for `nowMs`. */
export function toNodeJSON(v: KvNodeView, nowMs: number): NodeJSON {
  const out: NodeJSON = {};
  if (v.key !== '/') out.key = v.key;
  if (!v.dir && v.value !== undefined) out.value = v.value;
  if (v.dir) out.dir = true;
  if (v.expireAtMs !== null) {
    out.expiration = formatExpiration(v.expireAtMs);
    const ttl = ttlSeconds(v.expireAtMs, nowMs);
    if (ttl !== 0) out.ttl = ttl;
  }
  if (v.nodes && v.nodes.length > 0) out.nodes = v.nodes.map((n) => toNodeJSON(n, nowMs));
  if (v.modifiedIndex) out.modifiedIndex = v.modifiedIndex;
  if (v.createdIndex) out.createdIndex = v.createdIndex;
  return out;
}

/** The body of a v2 response for an event: action, node, prevNode. */
export function eventJSON(e: KvEvent, nowMs: number): { action: string; node: NodeJSON; prevNode?: NodeJSON } {
  const body: { action: string; node: NodeJSON; prevNode?: NodeJSON } = { action: e.action, node: toNodeJSON(e.node, nowMs) };
  if (e.prevNode) body.prevNode = toNodeJSON(e.prevNode, nowMs);
  return body;
}

/** What JSON.stringify escapes in a string; any surrogate is left to it (a pair is rare in a key or value). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quoted(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** toNodeJSON's node as JSON text, written directly (no object built, then stringified). */
function nodeText(v: KvNodeView, nowMs: number): string {
  let out = '{';
  let sep = '';
  if (v.key !== '/') {
    out += `"key":${quoted(v.key)}`;
    sep = ',';
  }
  if (!v.dir && v.value !== undefined) {
    out += `${sep}"value":${quoted(v.value)}`;
    sep = ',';
  }
  if (v.dir) {
    out += `${sep}"dir":true`;
    sep = ',';
  }
  if (v.expireAtMs !== null) {
    out += `${sep}"expiration":"${formatExpiration(v.expireAtMs)}"`;
    sep = ',';
    const ttl = ttlSeconds(v.expireAtMs, nowMs);
    if (ttl !== 0) out += `,"ttl":${ttl}`;
  }
  if (v.nodes && v.nodes.length > 0) {
    out += `${sep}"nodes":[`;
    for (let i = 0; i < v.nodes.length; i++) out += (i > 0 ? ',' : '') + nodeText(v.nodes[i]!, nowMs);
    out += ']';
    sep = ',';
  }
  if (v.modifiedIndex) {
    out += `${sep}"modifiedIndex":${v.modifiedIndex}`;
    sep = ',';
  }
  if (v.createdIndex) out += `${sep}"createdIndex":${v.createdIndex}`;
  return out + '}';
}

/**
 * JSON.stringify(eventJSON(e, nowMs)), the same text, written directly: an answer is built for
 * every request, and this way allocates no objects to stringify.
 */
export function eventText(e: KvEvent, nowMs: number): string {
  const prev = e.prevNode ? `,"prevNode":${nodeText(e.prevNode, nowMs)}` : '';
  return `{"action":"${e.action}","node":${nodeText(e.node, nowMs)}${prev}}`;
}
