/**
 * Encodes a header list as an HPACK block made only of literals that never touch the dynamic
 * table: "without indexing" (RFC 7541 §6.2.2), or "never indexed" (§6.2.3) for fields the
 * sender marked sensitive. Names and values are raw octets (no Huffman).
 *
 * Why this form: a block so encoded decodes the same against any decoder state and leaves that
 * state unchanged, so it can replace blocks of a connection whose decoder we no longer mirror.
 */

import type { HpackField } from './hpack-field';

/** The octets of `fields` as a self-contained header block (see the file comment). */
export function encodeLiteralHeaderBlock(fields: readonly HpackField[]): Buffer {
  let size = 0;
  for (const f of fields) size += 1 + integerLength(f.name.length, 7) + f.name.length + integerLength(f.value.length, 7) + f.value.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const f of fields) {
    out[pos++] = f.sensitive ? 0x10 : 0x00; // literal name (index 0)
    pos = writeString(out, pos, f.name);
    pos = writeString(out, pos, f.value);
  }
  return out;
}

/** Writes a raw string literal (H = 0, 7-bit-prefix length, octets) at `pos`; returns the end. */
function writeString(out: Buffer, pos: number, value: Buffer): number {
  pos = writeInteger(out, pos, value.length, 7, 0x00);
  value.copy(out, pos);
  return pos + value.length;
}

/** Writes `value` with an N-bit prefix (§5.1) into the octet at `pos`, whose high bits are `high`. */
export function writeInteger(out: Buffer, pos: number, value: number, prefixBits: number, high: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[pos++] = high | value;
    return pos;
  }
  out[pos++] = high | mask;
  let rest = value - mask;
  while (rest >= 0x80) {
    out[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** Octets {@link writeInteger} uses for `value` with an N-bit prefix. */
export function integerLength(value: number, prefixBits: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return 1;
  let n = 2;
  for (let rest = value - mask; rest >= 0x80; rest = Math.floor(rest / 0x80)) n++;
  return n;
}
