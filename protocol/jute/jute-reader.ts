/**
 * `JuteReader`: a bounds-checked cursor over one jute-encoded record (BinaryInputArchive,
 * zk-protocol.md §1.2). Every read checks the remaining bytes first and every length prefix is
 * checked against both the bytes left and a configured maximum, so hostile input can only
 * produce a {@link JuteDecodeError}.
 */
import { JuteDecodeError } from './jute-error';

/** Default cap on one buffer/string/vector length inside a record: jute.maxbuffer (0xfffff). */
export const JUTE_DEFAULT_MAX_LENGTH = 0xfffff;

/** Reads jute primitives from a Buffer, front to back. */
export class JuteReader {
  private pos = 0;

  /**
   * @param buf the bytes of one frame payload (not copied; the reader never mutates it)
   * @param maxLength the largest length prefix accepted for a buffer, string or vector
   */
  constructor(
    private readonly buf: Buffer,
    private readonly maxLength: number = JUTE_DEFAULT_MAX_LENGTH,
  ) {}

  /** Bytes not yet consumed. */
  remaining(): number {
    return this.buf.length - this.pos;
  }

  /** The current offset into the buffer. */
  offset(): number {
    return this.pos;
  }

  private need(n: number, what: string): void {
    if (this.buf.length - this.pos < n) {
      throw new JuteDecodeError(
        'truncated',
        `${what}: need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`,
      );
    }
  }

  /** A 4-byte big-endian signed int. */
  readInt(what = 'int'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** An 8-byte big-endian signed long, as a bigint (zxids, session ids and times exceed 2^53). */
  readLong(what = 'long'): bigint {
    this.need(8, what);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** One signed byte (BinaryInputArchive.readByte). */
  readByte(what = 'byte'): number {
    this.need(1, what);
    const v = this.buf.readInt8(this.pos);
    this.pos += 1;
    return v;
  }

  /** One byte; any non-zero value is true (BinaryInputArchive.readBool). */
  readBool(what = 'boolean'): boolean {
    this.need(1, what);
    const v = this.buf[this.pos] !== 0;
    this.pos += 1;
    return v;
  }

  /** A length prefix: -1 is null, other negatives and lengths past the cap are errors. */
  private readLength(what: string, allowNull: boolean): number {
    const len = this.readInt(what);
    if (len === -1 && allowNull) return -1;
    if (len < 0) throw new JuteDecodeError('negative-length', `${what}: length ${len}`);
    if (len > this.maxLength) {
      throw new JuteDecodeError('too-long', `${what}: length ${len} exceeds ${this.maxLength}`);
    }
    return len;
  }

  /** An int32-length-prefixed byte buffer; length -1 is null (kept apart from empty). */
  readBuffer(what = 'buffer'): Buffer | null {
    const len = this.readLength(what, true);
    if (len === -1) return null;
    this.need(len, what);
    // Copy so the result does not pin the (possibly large) frame buffer.
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }

  /** A UTF-8 string with an int32 byte-length prefix; -1 is null. */
  readUString(what = 'ustring'): string | null {
    const len = this.readLength(what, true);
    if (len === -1) return null;
    this.need(len, what);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A string that must not be null (paths, schemes): null reads as the empty string. */
  readString(what = 'ustring'): string {
    return this.readUString(what) ?? '';
  }

  /**
   * A vector: int32 count (-1 = null), then `count` elements read by `item`. The count is
   * checked against the bytes left (every element takes at least `minItemBytes`), so a huge
   * count cannot make us loop or allocate before failing.
   */
  readVector<T>(item: (r: JuteReader) => T, what = 'vector', minItemBytes = 1): T[] | null {
    const n = this.readLength(what, true);
    if (n === -1) return null;
    if (n * minItemBytes > this.remaining()) {
      throw new JuteDecodeError('truncated', `${what}: ${n} elements cannot fit in ${this.remaining()} bytes`);
    }
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }

  /** Fails unless every byte was consumed (a record followed by garbage is malformed). */
  expectEnd(what = 'record'): void {
    if (this.pos !== this.buf.length) {
      throw new JuteDecodeError('trailing-bytes', `${what}: ${this.buf.length - this.pos} bytes left over`);
    }
  }
}
