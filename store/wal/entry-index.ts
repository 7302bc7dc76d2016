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
  const termLen = uintLength(payload, keyAt + 2);
  if (termLen === 0 || uintValue(payload, keyAt + 2) === null) return null;
  const at = keyAt + 2 + termLen;
  if (payload[at] !== 0xa1 || payload[at + 1] !== 0x69) return null; // "i":
  return uintLength(payload, at + 2) === 0 ? null : uintValue(payload, at + 2);
}

/**
 * Bytes of the msgpack unsigned integer at `at` (or of a float64, as msgpack writes numbers past
 * 32 bits), 0 when none is there. A length and a value rather than one object holding both:
 * replay asks this of every entry record.
 */
function uintLength(b: Uint8Array, at: number): number {
  const tag = b[at];
  if (tag === undefined) return 0;
  if (tag <= 0x7f) return 1;
  const width = widthAfterTag(tag);
  return width === 0 || at + 1 + width > b.length ? 0 : 1 + width;
}

/** Bytes after a uint8/16/32/64 or float64 tag; 0 for any other tag. */
function widthAfterTag(tag: number): number {
  return tag === 0xcc ? 1 : tag === 0xcd ? 2 : tag === 0xce ? 4 : tag === 0xcf || tag === 0xcb ? 8 : 0;
}

/** The value of the integer `uintLength` found at `at`; null for a float64 that is not a whole number >= 0. */
function uintValue(b: Uint8Array, at: number): number | null {
  const tag = b[at]!;
  if (tag <= 0x7f) return tag;
  if (tag === 0xcb) {
    const v = Buffer.from(b.buffer, b.byteOffset + at + 1, 8).readDoubleBE(0);
    return Number.isSafeInteger(v) && v >= 0 ? v : null;
  }
  const width = widthAfterTag(tag);
  let value = 0;
  for (let i = 1; i <= width; i++) value = value * 256 + b[at + i]!;
  return value;
}
