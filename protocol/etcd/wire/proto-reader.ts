/**
 * Bounds-checked protobuf wire reader used by the generated etcd codecs.
 *
 * Every read takes `end`, the end offset of the message being read, and never moves past it:
 * a field cannot run into its parent's bytes, and the generated loops stop exactly at `end`.
 * Anything malformed (truncation, a varint over 10 bytes, field number 0, wire types 4/6/7,
 * a length past `end`, nesting deeper than {@link MAX_DECODE_DEPTH}) throws
 * {@link ProtoDecodeError}; nothing loops without consuming input, so decode always ends.
 *
 * `bytes` fields are returned as views (`subarray`) into the input buffer, not copies.
 */
import { ProtoDecodeError } from './decode-error';
import type { ProtoDecodeReason } from './decode-error';

/**
 * Deepest message nesting accepted (a nested Txn inside a Txn inside …). etcd's own limit on
 * nested txns is far lower; this bound only keeps hostile input from exhausting the stack.
 */
export const MAX_DECODE_DEPTH = 100;

const EMPTY_BUFFER = Buffer.alloc(0);

/** Cursor over one input buffer; generated `read*` functions drive it. */
export class ProtoReader {
  /** The whole top-level input. */
  readonly buf: Buffer;
  /** Offset of the next unread byte. */
  pos = 0;
  /** Current message nesting depth, maintained by {@link sub} and the generated code. */
  depth = 0;

  constructor(input: Uint8Array) {
    this.buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  }

  /** Throws a {@link ProtoDecodeError} at the current offset. */
  fail(reason: ProtoDecodeReason, detail: string): never {
    throw new ProtoDecodeError(reason, detail, this.pos);
  }

  /** Reads a field tag: rejects field number 0 and wire types 6 and 7. */
  tag(end: number): number {
    const buf = this.buf;
    const pos = this.pos;
    let t: number;
    if (pos < end && buf[pos]! < 0x80) {
      t = buf[pos]!;
      this.pos = pos + 1;
    } else {
      t = this.varintLow32(end) >>> 0;
    }
    if (t < 8 || (t & 7) > 5) this.fail('bad-tag', `invalid field tag ${t}`);
    return t;
  }

  /** Reads a varint as uint32 (low 32 bits of the encoded value). */
  uint32(end: number): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.varintLow32(end) >>> 0;
  }

  /** Reads a varint as int32 (enums; negative values arrive sign-extended to 10 bytes). */
  int32(end: number): number {
    const pos = this.pos;
    if (pos < end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    return this.varintLow32(end) | 0;
  }

  /** Reads a varint bool: any non-zero value is true. */
  bool(end: number): boolean {
    const buf = this.buf;
    let pos = this.pos;
    let bits = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) this.fail('truncated', 'truncated varint');
      const b = buf[pos++]!;
      bits |= b & 0x7f;
      if (b < 0x80) {
        this.pos = pos;
        return bits !== 0;
      }
    }
    return this.fail('varint-too-long', 'varint longer than 10 bytes');
  }

  /** Reads an int64 varint as a signed bigint. */
  int64(end: number): bigint {
    return this.varint64(end, true);
  }

  /** Reads a uint64 varint as a non-negative bigint. */
  uint64(end: number): bigint {
    return this.varint64(end, false);
  }

  /** Reads a length-delimited `bytes` field as a view into the input. */
  bytes(end: number): Buffer {
    const len = this.length(end);
    if (len === 0) return EMPTY_BUFFER;
    const start = this.pos;
    this.pos = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** Reads a length-delimited `string` field (UTF-8; invalid sequences become U+FFFD). */
  string(end: number): string {
    const len = this.length(end);
    if (len === 0) return '';
    const start = this.pos;
    this.pos = start + len;
    return this.buf.toString('utf8', start, start + len);
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes (packed fields). */
  delimited(end: number): number {
    const len = this.length(end);
    return this.pos + len;
  }

  /**
   * Enters a nested message: reads its length, checks the depth bound and returns its end.
   * The caller decrements {@link depth} after reading the nested message.
   */
  sub(end: number): number {
    const len = this.length(end);
    if (++this.depth > MAX_DECODE_DEPTH) this.fail('too-deep', `messages nested deeper than ${MAX_DECODE_DEPTH}`);
    return this.pos + len;
  }

  /** Skips the value of an unknown field whose tag was just read. */
  skip(tag: number, end: number): void {
    switch (tag & 7) {
      case 0:
        this.varintLow32(end);
        return;
      case 1:
        this.advance(8, end);
        return;
      case 2:
        this.advance(this.length(end), end);
        return;
      case 3:
        this.skipGroup(tag >>> 3, end);
        return;
      case 5:
        this.advance(4, end);
        return;
      default:
        this.fail('bad-tag', `unexpected wire type ${tag & 7}`);
    }
  }

  private skipGroup(fieldNumber: number, end: number): void {
    if (++this.depth > MAX_DECODE_DEPTH) this.fail('too-deep', `groups nested deeper than ${MAX_DECODE_DEPTH}`);
    for (;;) {
      if (this.pos >= end) this.fail('truncated', 'unterminated group');
      const t = this.varintLow32(end) >>> 0;
      if (t < 8) this.fail('bad-tag', `invalid field tag ${t}`);
      if ((t & 7) === 4) {
        if (t >>> 3 !== fieldNumber) this.fail('bad-tag', 'mismatched end-group tag');
        this.depth--;
        return;
      }
      this.skip(t, end);
    }
  }

  private advance(n: number, end: number): void {
    if (n > end - this.pos) this.fail('truncated', 'truncated field');
    this.pos += n;
  }

  private length(end: number): number {
    const len = this.uint32(end);
    if (len > end - this.pos) this.fail('length-overrun', `length ${len} runs past the end of the message`);
    return len;
  }

  /** Reads a whole varint (up to 10 bytes) and returns its low 32 bits. */
  private varintLow32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) this.fail('truncated', 'truncated varint');
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
    }
    for (let i = 5; i < 10; i++) {
      if (pos >= end) this.fail('truncated', 'truncated varint');
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return result;
      }
    }
    return this.fail('varint-too-long', 'varint longer than 10 bytes');
  }

  private varint64(end: number, signed: boolean): bigint {
    const buf = this.buf;
    const pos = this.pos;
    // Fast path: up to four bytes (values below 2^28: versions, counts, most revisions).
    if (end - pos >= 4) {
      const b0 = buf[pos]!;
      if (b0 < 0x80) {
        this.pos = pos + 1;
        return BigInt(b0);
      }
      const b1 = buf[pos + 1]!;
      if (b1 < 0x80) {
        this.pos = pos + 2;
        return BigInt((b0 & 0x7f) | (b1 << 7));
      }
      const b2 = buf[pos + 2]!;
      if (b2 < 0x80) {
        this.pos = pos + 3;
        return BigInt((b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14));
      }
      const b3 = buf[pos + 3]!;
      if (b3 < 0x80) {
        this.pos = pos + 4;
        return BigInt((b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21));
      }
    }
    // Up to 7 bytes: values below 2^49 are exact in a double.
    let p = pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (p >= end) this.fail('truncated', 'truncated varint');
      const b = buf[p++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = p;
        return BigInt(value);
      }
      scale *= 128;
    }
    return this.varint64Wide(end, signed);
  }

  private varint64Wide(end: number, signed: boolean): bigint {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail('truncated', 'truncated varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
    }
    if (pos >= end) this.fail('truncated', 'truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >>> 4;
    let done = b < 0x80;
    for (let shift = 3; !done && shift < 38; shift += 7) {
      if (pos >= end) this.fail('truncated', 'truncated varint');
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      done = b < 0x80;
    }
    if (!done) this.fail('varint-too-long', 'varint longer than 10 bytes');
    this.pos = pos;
    const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return signed ? BigInt.asIntN(64, u) : u;
  }
}
