/**
 * Inflates a ZooKeeper snapshot written with `zookeeper.snapshot.compression.method=snappy`:
 * snappy-java's stream format (SnappyOutputStream) around raw Snappy blocks. The stream is an
 * 8-byte magic (0x82 "SNAPPY" 0) and two int32 versions, then blocks, each an int32 (big-endian)
 * compressed length and that many bytes of one raw block; a stream may be followed by another
 * (a new header). A raw block is its uncompressed length as a varint, then elements: literals and
 * back-references (copies) into what was already produced (github.com/google/snappy,
 * format_description.txt).
 */

const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const HEADER_BYTES = MAGIC.length + 8;

/** The bytes are not a snappy-java stream, or one cut short or damaged. */
export class SnappyFormatError extends Error {}

/** Whether `bytes` starts as a snappy-java stream does. */
export function isSnappyStream(bytes: Buffer): boolean {
  return bytes.length >= MAGIC.length && bytes.subarray(0, MAGIC.length).equals(MAGIC);
}

/** Inflates a whole snappy-java stream. Throws {@link SnappyFormatError} for bytes that are not one, or are cut short. */
export function inflateSnappyStream(bytes: Buffer): Buffer {
  if (!isSnappyStream(bytes)) throw new SnappyFormatError('not a snappy-java stream (no magic header)');
  const blocks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (isSnappyStream(bytes.subarray(at))) {
      if (bytes.length - at < HEADER_BYTES) throw new SnappyFormatError('stream header cut short');
      at += HEADER_BYTES;
      continue;
    }
    if (bytes.length - at < 4) throw new SnappyFormatError(`block length cut short at offset ${at}`);
    const length = bytes.readInt32BE(at);
    at += 4;
    if (length < 0 || length > bytes.length - at) throw new SnappyFormatError(`block at offset ${at - 4} is cut short (${length} bytes announced)`);
    blocks.push(inflateRawBlock(bytes.subarray(at, at + length)));
    at += length;
  }
  return Buffer.concat(blocks);
}

/** Inflates one raw Snappy block. Throws {@link SnappyFormatError} when it is malformed. */
export function inflateRawBlock(block: Buffer): Buffer {
  const { value: size, next } = readVarint(block, 0);
  // No element expands past 64 bytes per byte (a 3-byte copy of 64): more is damage, not data.
  if (size > block.length * 64) throw new SnappyFormatError(`block announces ${size} bytes from ${block.length}`);
  const out = Buffer.allocUnsafe(size);
  let produced = 0;
  let at = next;
  while (at < block.length) {
    const tag = block[at++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >> 2) + 1;
      if (len > 60) {
        // 60..63: the length − 1 follows in 1..4 little-endian bytes.
        const extra = len - 60;
        if (at + extra > block.length) throw new SnappyFormatError('literal length cut short');
        len = block.readUIntLE(at, extra) + 1;
        at += extra;
      }
      if (at + len > block.length || produced + len > size) throw new SnappyFormatError('literal runs past the block');
      block.copy(out, produced, at, at + len);
      at += len;
      produced += len;
      continue;
    }
    const { len, offset, width } = copyOf(tag, kind, block, at);
    at += width;
    if (offset === 0 || offset > produced || produced + len > size) throw new SnappyFormatError('copy reaches outside the output');
    // A copy may overlap what it writes (a run): byte by byte then.
    for (let i = 0; i < len; i++) out[produced + i] = out[produced - offset + i]!;
    produced += len;
  }
  if (produced !== size) throw new SnappyFormatError(`block inflates to ${produced} bytes, not the ${size} it announces`);
  return out;
}

/** A copy element's length and offset, and how many bytes after the tag it took. */
function copyOf(tag: number, kind: number, block: Buffer, at: number): { len: number; offset: number; width: number } {
  const width = kind === 1 ? 1 : kind === 2 ? 2 : 4;
  if (at + width > block.length) throw new SnappyFormatError('copy cut short');
  if (kind === 1) return { len: ((tag >> 2) & 7) + 4, offset: ((tag >> 5) << 8) | block[at]!, width };
  return { len: (tag >> 2) + 1, offset: block.readUIntLE(at, width), width };
}

function readVarint(b: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (at >= b.length) throw new SnappyFormatError('block length cut short');
    const byte = b[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: at };
  }
  throw new SnappyFormatError('block length is not a valid varint');
}
