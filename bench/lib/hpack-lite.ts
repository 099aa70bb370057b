/**
 * Just enough HPACK (RFC 7541) for a load generator: encode a constant request header block, and
 * find `grpc-status` and `:status` in a response header block.
 *
 * The generator advertises SETTINGS_HEADER_TABLE_SIZE = 0, so a compliant server's encoder never
 * indexes into a dynamic table; every field we meet is a static-table index or a literal. Names
 * may be Huffman-coded (nghttp2 and grpc-go Huffman-code when it is shorter, as it is for
 * `grpc-status`), so the Huffman form of that one name is precomputed; values that matter are
 * digits, whose Huffman codes are small enough to decode from a ten-entry table (Appendix B).
 */

/** Huffman codes (RFC 7541 Appendix B) of the characters we need: [code, bit length]. */
const HUFFMAN: Readonly<Record<string, readonly [number, number]>> = {
  '0': [0x0, 5],
  '1': [0x1, 5],
  '2': [0x2, 5],
  '3': [0x19, 6],
  '4': [0x1a, 6],
  '5': [0x1b, 6],
  '6': [0x1c, 6],
  '7': [0x1d, 6],
  '8': [0x1e, 6],
  '9': [0x1f, 6],
  '-': [0x16, 6],
  a: [0x3, 5],
  c: [0x4, 5],
  g: [0x26, 6],
  p: [0x2b, 6],
  r: [0x2c, 6],
  s: [0x8, 5],
  t: [0x9, 5],
  u: [0x2d, 6],
};

/** Huffman-encodes a string of characters from {@link HUFFMAN}, padded with 1 bits (§5.2). */
export function huffmanEncode(text: string): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    const entry = HUFFMAN[ch];
    if (entry === undefined) throw new Error(`no Huffman code for ${ch}`);
    acc = (acc << entry[1]) | entry[0];
    bits += entry[1];
    while (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff);
      bits -= 8;
      acc &= (1 << bits) - 1;
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(out);
}

/** Reads `count` bits at bit offset `at` of `bytes` as an unsigned number. */
function bitsAt(bytes: Buffer, at: number, count: number): number {
  let v = 0;
  for (let k = 0; k < count; k++) v = (v << 1) | ((bytes[(at + k) >> 3] >> (7 - ((at + k) & 7))) & 1);
  return v;
}

/** Decodes a Huffman string made only of digits; NaN if anything else is in it. */
export function huffmanDigits(bytes: Buffer, start: number, end: number): number {
  let at = start * 8;
  const endBit = end * 8;
  let value = 0;
  let digits = 0;
  while (endBit - at >= 5) {
    const five = bitsAt(bytes, at, 5);
    if (five <= 2) {
      value = value * 10 + five; // '0'..'2' are 00000..00010
      at += 5;
    } else if (endBit - at >= 6 && bitsAt(bytes, at, 6) >= 0x19 && bitsAt(bytes, at, 6) <= 0x1f) {
      value = value * 10 + bitsAt(bytes, at, 6) - 0x19 + 3; // '3'..'9' are 011001..011111
      at += 6;
    } else {
      break;
    }
    digits++;
  }
  // What is left must be padding: fewer than 8 bits, all ones (§5.2).
  const rest = endBit - at;
  if (digits === 0 || rest >= 8 || bitsAt(bytes, at, rest) !== (1 << rest) - 1) return NaN;
  return value;
}

/** Appends an HPACK integer with an N-bit prefix (§5.1); `first` holds the bits above the prefix. */
function pushInt(out: number[], value: number, prefixBits: number, first: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(first | value);
    return;
  }
  out.push(first | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function pushString(out: number[], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  pushInt(out, bytes.length, 7, 0); // H = 0: raw octets
  for (const b of bytes) out.push(b);
}

/**
 * The header block of a gRPC request: `:method POST`, `:scheme http` (static indexes),
 * `:path`, `:authority`, `content-type` by static name index, `te: trailers` and any metadata as
 * literals without indexing — so the same bytes are valid for every request on a connection.
 */
export function encodeRequestHeaders(path: string, authority: string, metadata: Record<string, string> = {}): Buffer {
  const out: number[] = [0x83, 0x86]; // indexed :method POST (3), :scheme http (6)
  pushInt(out, 4, 4, 0x00); // literal without indexing, name = static 4 (:path)
  pushString(out, path);
  pushInt(out, 1, 4, 0x00); // :authority (1)
  pushString(out, authority);
  pushInt(out, 31, 4, 0x00); // content-type (31)
  pushString(out, 'application/grpc');
  for (const [name, value] of [['te', 'trailers'], ...Object.entries(metadata)]) {
    out.push(0x00); // literal without indexing, new name
    pushString(out, name.toLowerCase());
    pushString(out, value);
  }
  return Buffer.from(out);
}

/** Static-table indexes of `:status` values (RFC 7541 Appendix A). */
const STATIC_STATUS: Readonly<Record<number, number>> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
const STATUS_NAME_INDEX = 8;
const GRPC_STATUS_PLAIN = Buffer.from('grpc-status', 'latin1');
const GRPC_STATUS_HUFFMAN = huffmanEncode('grpc-status');

/** Statuses found in one header block; undefined when absent. */
export interface BlockStatus {
  grpcStatus: number | undefined;
  httpStatus: number | undefined;
}

/** Reads an HPACK integer with an N-bit prefix at `pos`; returns [value, next position]. */
function readInt(block: Buffer, pos: number, prefixBits: number): [number, number] {
  const max = (1 << prefixBits) - 1;
  let value = block[pos] & max;
  pos++;
  if (value < max) return [value, pos];
  let shift = 1;
  for (;;) {
    if (pos >= block.length) throw new Error('truncated HPACK integer');
    const b = block[pos++];
    value += (b & 0x7f) * shift;
    shift *= 128;
    if ((b & 0x80) === 0) return [value, pos];
  }
}

/** A string at `pos`: [start, end, huffman, next position]. */
function readString(block: Buffer, pos: number): [number, number, boolean, number] {
  const huffman = (block[pos] & 0x80) !== 0;
  const [length, start] = readInt(block, pos, 7);
  const end = start + length;
  if (end > block.length) throw new Error('truncated HPACK string');
  return [start, end, huffman, end];
}

function digitsOf(block: Buffer, start: number, end: number, huffman: boolean): number {
  if (huffman) return huffmanDigits(block, start, end);
  const text = block.toString('latin1', start, end);
  return /^\d+$/.test(text) ? Number(text) : NaN;
}

/**
 * Finds `grpc-status` and `:status` in a complete header block. Throws on a malformed block.
 * Dynamic-table references (which a compliant server cannot send us) are skipped.
 */
export function decodeStatus(block: Buffer): BlockStatus {
  const result: BlockStatus = { grpcStatus: undefined, httpStatus: undefined };
  let pos = 0;
  while (pos < block.length) {
    const b = block[pos];
    if (b & 0x80) {
      const [index, next] = readInt(block, pos, 7); // indexed field
      if (STATIC_STATUS[index] !== undefined) result.httpStatus = STATIC_STATUS[index];
      pos = next;
      continue;
    }
    if ((b & 0xe0) === 0x20) {
      pos = readInt(block, pos, 5)[1]; // dynamic table size update
      continue;
    }
    const prefix = (b & 0xc0) === 0x40 ? 6 : 4; // with incremental indexing : without/never
    const [nameIndex, afterName] = readInt(block, pos, prefix);
    let isGrpcStatus = false;
    pos = afterName;
    if (nameIndex === 0) {
      const [start, end, huffman, next] = readString(block, pos);
      const name = block.subarray(start, end);
      isGrpcStatus = (huffman ? GRPC_STATUS_HUFFMAN : GRPC_STATUS_PLAIN).equals(name);
      pos = next;
    }
    const [vStart, vEnd, vHuffman, next] = readString(block, pos);
    if (isGrpcStatus) result.grpcStatus = digitsOf(block, vStart, vEnd, vHuffman);
    else if (nameIndex === STATUS_NAME_INDEX) result.httpStatus = digitsOf(block, vStart, vEnd, vHuffman);
    pos = next;
  }
  return result;
}
