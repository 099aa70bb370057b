/**
 * `JuteWriter`: a growable output buffer for jute records (BinaryOutputArchive, zk-protocol.md
 * §1.2). Frames are built in place: {@link JuteWriter.startFrame} reserves the 4-byte length
 * and {@link JuteWriter.endFrame} fills it in, so a reply is encoded with one allocation.
 */
import { writeInt64BE } from './int64';

/** Strings up to this many chars are tried as ASCII in a JS loop (see writeShortAscii). */
const ASCII_LOOP_MAX_CHARS = 256;

/** Writes jute primitives into a growing Buffer. */
export class JuteWriter {
  private buf: Buffer;
  private pos = 0;
  private frameStart = -1;

  /** @param initialSize first allocation in bytes; the buffer doubles as needed */
  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialSize));
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes written so far. */
  length(): number {
    return this.pos;
  }

  /** A 4-byte big-endian signed int; `v` must be an int32. */
  writeInt(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** An 8-byte big-endian signed long. */
  writeLong(v: bigint): this {
    this.ensure(8);
    writeInt64BE(this.buf, v, this.pos);
    this.pos += 8;
    return this;
  }

  /** One byte, 0 or 1. */
  writeBool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  /** Length-prefixed bytes; null is written as length -1. */
  writeBuffer(v: Buffer | null): this {
    if (v === null) return this.writeInt(-1);
    this.writeInt(v.length);
    this.ensure(v.length);
    v.copy(this.buf, this.pos);
    this.pos += v.length;
    return this;
  }

  /** UTF-8 string with a byte-length prefix; null is written as length -1. */
  writeUString(v: string | null): this {
    if (v === null) return this.writeInt(-1);
    if (v.length <= ASCII_LOOP_MAX_CHARS && this.writeShortAscii(v)) return this;
    const len = Buffer.byteLength(v, 'utf8');
    this.writeInt(len);
    this.ensure(len);
    this.buf.write(v, this.pos, len, 'utf8');
    this.pos += len;
    return this;
  }

  /**
   * Writes `v` with its length prefix if every char is ASCII (its UTF-8 bytes are its char
   * codes), in plain JS: for the short names and paths of replies and events, two native calls
   * per string (byteLength, write) cost more than the copy itself; a getChildren reply is mostly
   * such strings. Returns false, having written nothing, at the first non-ASCII char.
   */
  private writeShortAscii(v: string): boolean {
    const n = v.length;
    this.ensure(4 + n);
    const buf = this.buf;
    const start = this.pos + 4;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[start + i] = c;
    }
    buf.writeInt32BE(n, this.pos);
    this.pos = start + n;
    return true;
  }

  /** A vector: count (-1 for null), then each element written by `item`. */
  writeVector<T>(v: readonly T[] | null, item: (w: JuteWriter, x: T) => void): this {
    if (v === null) return this.writeInt(-1);
    this.writeInt(v.length);
    for (const x of v) item(this, x);
    return this;
  }

  /** Raw bytes with no prefix. */
  writeRaw(v: Buffer): this {
    this.ensure(v.length);
    v.copy(this.buf, this.pos);
    this.pos += v.length;
    return this;
  }

  /** Reserves the 4-byte length prefix of a frame; pair with {@link endFrame}. */
  startFrame(): this {
    this.frameStart = this.pos;
    return this.writeInt(0);
  }

  /** Fills in the length reserved by {@link startFrame} (the length does not count itself). */
  endFrame(): this {
    if (this.frameStart < 0) throw new Error('JuteWriter.endFrame without startFrame');
    this.buf.writeInt32BE(this.pos - this.frameStart - 4, this.frameStart);
    this.frameStart = -1;
    return this;
  }

  /** The bytes written, as a view (valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
