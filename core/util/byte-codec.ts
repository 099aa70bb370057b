/**
 * A growable binary writer and a bounds-checked reader for the project's own compact formats
 * (log entries, records). The reader throws {@link DecodeError} on truncated or malformed input;
 * callers decoding untrusted bytes catch it and turn it into a protocol error.
 */

/** Malformed or truncated input. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Appends values to a buffer that grows as needed. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  /** Unsigned varint for safe integers ≥ 0. */
  uvar(v: number): this {
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Signed 64-bit value, fixed 8 bytes. */
  i64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.pos);
    this.pos += 8;
    return this;
  }

  /** Length-prefixed bytes. */
  bytes(v: Uint8Array): this {
    this.uvar(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  /** Length-prefixed UTF-8 string. */
  str(v: string): this {
    return this.bytes(Buffer.from(v, 'utf8'));
  }

  /** The written bytes (a view; copy if the writer is reused). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads values written by {@link ByteWriter}, checking every bound. */
export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(`truncated: need ${n} bytes at ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new DecodeError(`bad boolean ${v}`);
    return v === 1;
  }

  uvar(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) throw new DecodeError('varint overflows a safe integer');
        return result;
      }
      mul *= 0x80;
    }
    throw new DecodeError('varint too long');
  }

  i64(): bigint {
    this.need(8);
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readBigInt64BE(0);
    this.pos += 8;
    return v;
  }

  bytes(): Buffer {
    const n = this.uvar();
    this.need(n);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return v;
  }

  str(): string {
    return this.bytes().toString('utf8');
  }
}
