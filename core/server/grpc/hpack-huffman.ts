/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B): a decoder for string literals and an
 * encoder (used by tests and by anyone who wants the shorter form).
 *
 * The Appendix B code is canonical: within one length, codes are consecutive in symbol order,
 * and each length starts where the previous one ended, shifted left. So the table is written
 * out below as its code lengths only, and the codes are derived from them at load time (the
 * unit test checks derived codes against Appendix B entries and the Appendix C examples).
 *
 * Decoding walks the code tree four bits at a time through a transition table built at load
 * time: a state is an inner node of the tree (256 of them), and since the shortest code is 5
 * bits, one nibble completes at most one symbol. The string must end on a symbol boundary or in
 * at most 7 bits of padding that are a prefix of EOS (all ones); EOS itself must not appear
 * (§5.2). Anything else is a decoding error.
 */

import { HpackError } from './hpack-error';

/** The end-of-string symbol, only ever seen as padding. */
export const HUFFMAN_EOS = 256;

/** Code length in bits of symbols 0..256 (256 = EOS), RFC 7541 Appendix B, 8 per row. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, // 0-7
  28, 24, 30, 28, 28, 30, 28, 28, // 8-15
  28, 28, 28, 28, 28, 28, 30, 28, // 16-23
  28, 28, 28, 28, 28, 28, 28, 28, // 24-31
  6, 10, 10, 12, 13, 6, 8, 11, //    32-39  ' ' ! " # $ % & '
  10, 10, 8, 11, 8, 6, 6, 6, //      40-47  ( ) * + , - . /
  5, 5, 5, 6, 6, 6, 6, 6, //        48-55  0-7
  6, 6, 7, 8, 15, 6, 12, 10, //     56-63  8 9 : ; < = > ?
  13, 6, 7, 7, 7, 7, 7, 7, //       64-71  @ A-G
  7, 7, 7, 7, 7, 7, 7, 7, //        72-79  H-O
  7, 7, 7, 7, 7, 7, 7, 7, //        80-87  P-W
  8, 7, 8, 13, 19, 13, 14, 6, //    88-95  X Y Z [ \ ] ^ _
  15, 5, 6, 5, 6, 5, 6, 6, //       96-103 ` a-g
  6, 5, 7, 7, 6, 6, 6, 5, //        104-111 h-o
  6, 7, 6, 5, 5, 6, 7, 7, //        112-119 p-w
  7, 7, 7, 15, 11, 14, 13, 28, //   120-127 x y z { | } ~ DEL
  20, 22, 20, 20, 22, 22, 22, 23, // 128-135
  22, 23, 23, 23, 23, 23, 24, 23, // 136-143
  24, 24, 22, 23, 24, 23, 23, 23, // 144-151
  23, 21, 22, 23, 22, 23, 23, 24, // 152-159
  22, 21, 20, 22, 22, 23, 23, 21, // 160-167
  23, 22, 22, 24, 21, 22, 23, 23, // 168-175
  21, 21, 22, 21, 23, 22, 23, 23, // 176-183
  20, 22, 22, 22, 23, 22, 22, 23, // 184-191
  26, 26, 20, 19, 22, 23, 22, 25, // 192-199
  26, 26, 26, 27, 27, 26, 24, 25, // 200-207
  19, 21, 26, 27, 27, 26, 27, 24, // 208-215
  21, 21, 26, 26, 28, 27, 27, 27, // 216-223
  20, 24, 20, 21, 22, 21, 21, 23, // 224-231
  22, 22, 25, 25, 24, 24, 26, 23, // 232-239
  26, 27, 26, 26, 27, 27, 27, 27, // 240-247
  27, 28, 27, 27, 27, 27, 27, 26, // 248-255
  30, //                             EOS
];

/** Canonical codes derived from {@link CODE_LENGTHS}, right-aligned. */
const CODES: Uint32Array = deriveCanonicalCodes(CODE_LENGTHS);

/** Assigns canonical codes: by length, then by symbol (RFC 7541's table follows this order). */
function deriveCanonicalCodes(lengths: readonly number[]): Uint32Array {
  const codes = new Uint32Array(lengths.length);
  const order = lengths.map((_, sym) => sym).sort((a, b) => lengths[a] - lengths[b] || a - b);
  let code = 0;
  let prevLength = lengths[order[0]];
  for (const sym of order) {
    code *= 2 ** (lengths[sym] - prevLength); // multiply, not shift: codes reach 30 bits
    prevLength = lengths[sym];
    codes[sym] = code;
    code += 1;
  }
  return codes;
}

/** The code of `symbol` (0..256) and its length in bits. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  return { code: CODES[symbol], bits: CODE_LENGTHS[symbol] };
}

// ---- decoding table ----

/** Transition entry bits: next state in the low 8 bits, then flags, then the emitted symbol. */
const EMITS = 0x100;
const FAILS = 0x200;
const SYMBOL_SHIFT = 10;

interface DecodingTables {
  /** `transitions[state * 16 + nibble]`, packed as described above. */
  transitions: Uint32Array;
  /** 1 when a string may end in that state: a symbol boundary or ≤ 7 bits of EOS prefix. */
  accepting: Uint8Array;
}

const TABLES: DecodingTables = buildDecodingTables();

/** Builds the code tree from {@link CODES} and the nibble transition table over its inner nodes. */
function buildDecodingTables(): DecodingTables {
  // Inner nodes: children[2 * node + bit] is another inner node (>= 0) or ~symbol (< 0).
  const children: number[] = [0, 0];
  const depth: number[] = [0];
  const allOnes: boolean[] = [true];
  let nodes = 1;
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const bits = CODE_LENGTHS[sym];
    let node = 0;
    for (let b = bits - 1; b > 0; b--) {
      const bit = Math.floor(CODES[sym] / 2 ** b) & 1;
      let next = children[2 * node + bit];
      if (next === 0) {
        next = nodes++;
        children.push(0, 0);
        depth.push(depth[node] + 1);
        allOnes.push(allOnes[node] && bit === 1);
        children[2 * node + bit] = next;
      }
      node = next;
    }
    children[2 * node + (CODES[sym] & 1)] = ~sym;
  }
  const transitions = new Uint32Array(nodes * 16);
  const accepting = new Uint8Array(nodes);
  for (let state = 0; state < nodes; state++) {
    accepting[state] = state === 0 || (allOnes[state] && depth[state] <= 7) ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      transitions[state * 16 + nibble] = walkNibble(children, state, nibble);
    }
  }
  return { transitions, accepting };
}

/** Follows four bits from `state`; at most one symbol completes (the shortest code has 5 bits). */
function walkNibble(children: readonly number[], state: number, nibble: number): number {
  let node = state;
  let out = 0;
  for (let b = 3; b >= 0; b--) {
    const next = children[2 * node + ((nibble >> b) & 1)];
    if (next >= 0) {
      node = next;
      continue;
    }
    const sym = ~next;
    if (sym === HUFFMAN_EOS) return FAILS;
    out = EMITS | (sym << SYMBOL_SHIFT);
    node = 0;
  }
  return out | node;
}

/**
 * Decodes the Huffman-coded octets `src[start, end)`. Throws {@link HpackError} on EOS in the
 * data, padding longer than 7 bits, or padding that is not all ones.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): Buffer {
  // Every symbol takes at least 5 bits.
  const out = Buffer.allocUnsafe(Math.floor(((end - start) * 8) / 5));
  const { transitions, accepting } = TABLES;
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i];
    let t = transitions[state * 16 + (byte >> 4)];
    if ((t & EMITS) !== 0) out[n++] = t >>> SYMBOL_SHIFT;
    t = transitions[(t & 0xff) * 16 + (byte & 0x0f)] | (t & FAILS);
    if ((t & FAILS) !== 0) throw new HpackError('EOS symbol inside a Huffman-coded string');
    if ((t & EMITS) !== 0) out[n++] = t >>> SYMBOL_SHIFT;
    state = t & 0xff;
  }
  if (accepting[state] === 0) throw new HpackError('invalid padding of a Huffman-coded string');
  return out.subarray(0, n);
}

/** The length in octets of the Huffman coding of `src`. */
export function huffmanEncodedLength(src: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < src.length; i++) bits += CODE_LENGTHS[src[i]];
  return Math.ceil(bits / 8);
}

/** Huffman-codes `src`, padding the last octet with the most significant bits of EOS (ones). */
export function huffmanEncode(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(huffmanEncodedLength(src));
  let acc = 0; // pending bits, right-aligned; fewer than 8 between symbols
  let pending = 0;
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const bits = CODE_LENGTHS[src[i]];
    let code = CODES[src[i]];
    // Feed the code in pieces of at most 16 bits so `acc` stays below 2^31.
    for (let remaining = bits; remaining > 0; ) {
      const take = Math.min(remaining, 16);
      remaining -= take;
      const piece = Math.floor(code / 2 ** remaining);
      code -= piece * 2 ** remaining;
      acc = (acc << take) | piece;
      pending += take;
      while (pending >= 8) {
        pending -= 8;
        out[n++] = (acc >>> pending) & 0xff;
      }
      acc &= (1 << pending) - 1;
    }
  }
  if (pending > 0) out[n++] = ((acc << (8 - pending)) | ((1 << (8 - pending)) - 1)) & 0xff;
  return out;
}
