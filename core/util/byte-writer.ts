/**
 * A growable byte buffer with the primitive encodings of the raft codec: unsigned LEB128
 * varints for safe integers, fixed 8-byte big-endian words for 64-bit ids, and length-prefixed
 * byte strings. Pure TypeScript over Uint8Array/DataView (core/raft may not import node:*).
 */
import { assert, assertFailed } from './assert';
import { ByteAlloc, plainBytes } from './byte-alloc';

/** Bytes needed to encode `n` (a non-negative safe integer) as an unsigned LEB128 varint. */
export function varintSize(n: number): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) assertFailed(`varint value ${n} is not a non-negative safe integer`);
  let size = 1;
  // Division, not shifts: JavaScript shifts truncate to 32 bits and we need up to 2^53.
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Bytes needed for a length-prefixed byte string. */
export function bytesFieldSize(b: Uint8Array): number {
  return varintSize(b.length) + b.length;
}

/** Appends encoded values to an internal buffer that doubles when full. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 64) {
    assert(initialCapacity > 0, 'capacity must be positive');
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Ensures room for `n` more bytes. */
  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** One byte, 0..255. */
  u8(v: number): void {
    if (!(Number.isInteger(v) && v >= 0 && v <= 0xff)) assertFailed(`u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  /** A non-negative safe integer as unsigned LEB128. */
  varint(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) assertFailed(`varint value ${n} is not a non-negative safe integer`);
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** An unsigned 64-bit value as 8 big-endian bytes. */
  u64(v: bigint): void {
    if (!(v >= 0n && v <= 0xffff_ffff_ffff_ffffn)) assertFailed(`u64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.pos, v, false);
    this.pos += 8;
  }

  /** A boolean as one byte (0 or 1). */
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  /** A varint length followed by the bytes. */
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * Empties the writer for reuse, so that a codec can keep one scratch writer and allocate only
   * the exact-size copy of {@link finish} per encoding. A buffer grown past `keepBytes` (one big
   * snapshot message) is dropped rather than held for the process's life.
   */
  reset(keepBytes = 1 << 20): void {
    this.pos = 0;
    if (this.buf.length > keepBytes) {
      this.buf = new Uint8Array(4096);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** The bytes written so far, copied into an exact-size array from `alloc`. */
  finish(alloc: ByteAlloc = plainBytes): Uint8Array {
    const out = alloc(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  /** The bytes written so far as a view of the internal buffer: valid until the next write or reset. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
