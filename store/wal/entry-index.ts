/**
 * The index of a WAL entry record without decoding it: its payload is msgpack's
 * {t: term, i: index, y: type, d: data}, a 4-entry map written in that order. Replay skips
 * every entry at or below the snapshot this way; a segment can hold hundreds of thousands of
 * them once snapshots no longer cut segments. null when the bytes are laid out otherwise (the
 * caller then decodes the record in full).
 */
export function entryIndexOf(payload: Uint8Array): number | null {
  // A 4-entry map: fixmap, or map16 as msgpackr writes objects.
  const keyAt = payload[0] === 0x84 ? 1 : payload[0] === 0xde && payload[1] === 0 && payload[2] === 4 ? 3 : -1;
  if (keyAt < 0 || payload[keyAt] !== 0xa1 || payload[keyAt + 1] !== 0x74) return null; // "t":
  const term = readUint(payload, keyAt + 2);
  if (!term) return null;
  const at = term.next;
  if (payload[at] !== 0xa1 || payload[at + 1] !== 0x69) return null; // "i":
  return readUint(payload, at + 2)?.value ?? null;
}

/** A msgpack unsigned integer (or a whole float64, as msgpack writes numbers past 32 bits) at `at`. */
function readUint(b: Uint8Array, at: number): { value: number; next: number } | null {
  const tag = b[at];
  if (tag === undefined) return null;
  if (tag <= 0x7f) return { value: tag, next: at + 1 };
  const width = tag === 0xcc ? 1 : tag === 0xcd ? 2 : tag === 0xce ? 4 : tag === 0xcf || tag === 0xcb ? 8 : 0;
  if (width === 0 || at + 1 + width > b.length) return null;
  if (tag === 0xcb) {
    const v = Buffer.from(b.buffer, b.byteOffset + at + 1, 8).readDoubleBE(0);
    return Number.isSafeInteger(v) && v >= 0 ? { value: v, next: at + 9 } : null;
  }
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + b[at + i]!;
  return { value, next: at + 1 + width };
}
