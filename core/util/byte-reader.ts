/**
 * The bounds-checked reading side of `byte-writer.ts`. Every read checks the remaining length
 * first and throws {@link DecodeError} (never a RangeError or an assertion), because the bytes
 * come from peers and disks we do not trust to be well-formed.
 */
import { DecodeError } from './decode-error';
import { ByteAlloc, plainBytes } from './byte-alloc';

/** Reads primitive values from a byte array, front to back. */
export class ByteReader {
  private pos = 0;
  private readonly view: DataView;

  /** @param alloc makes the copies {@link bytes} returns */
  constructor(
    private readonly buf: Uint8Array,
    private readonly alloc: ByteAlloc = plainBytes,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Bytes not yet read. */
  remaining(): number {
    return this.buf.length - this.pos;
  }

  /** The current offset (for error messages). */
  offset(): number {
    return this.pos;
  }

  /** Throws a {@link DecodeError} at the current offset. */
  fail(message: string): never {
    throw new DecodeError(message, this.pos);
  }

  private need(n: number, what: string): void {
    if (this.remaining() < n) this.fail(`truncated ${what} (need ${n}, have ${this.remaining()})`);
  }

  /** One byte. */
  u8(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++]!;
  }

  /** An unsigned LEB128 varint that must fit a safe integer (at most 8 bytes, < 2^53). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) this.fail('varint exceeds 2^53');
        return result;
      }
      scale *= 0x80;
    }
    return this.fail('varint longer than 8 bytes');
  }

  /** An unsigned 64-bit big-endian value. */
  u64(): bigint {
    this.need(8, 'u64');
    const v = this.view.getBigUint64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** A boolean byte; anything but 0 or 1 is malformed. */
  bool(): boolean {
    const b = this.u8();
    if (b > 1) this.fail(`bad boolean ${b}`);
    return b === 1;
  }

  /** A length-prefixed byte string, copied out so the input buffer can be reused. */
  bytes(): Uint8Array {
    const view = this.bytesView();
    const out = this.alloc(view.length);
    out.set(view);
    return out;
  }

  /** A length-prefixed byte string as a view of the input (no copy): valid only as long as the input is. */
  bytesView(): Uint8Array {
    const n = this.varint();
    this.need(n, 'byte string');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /**
   * A count of items that each take at least `minItemBytes`; bounded by the remaining input so
   * a forged count cannot make us allocate a huge array.
   */
  count(minItemBytes: number): number {
    const n = this.varint();
    if (n * minItemBytes > this.remaining()) this.fail(`count ${n} exceeds remaining input`);
    return n;
  }

  /** Fails unless every byte was consumed (trailing garbage means a framing error). */
  end(): void {
    if (this.remaining() !== 0) this.fail(`${this.remaining()} trailing bytes`);
  }
}
