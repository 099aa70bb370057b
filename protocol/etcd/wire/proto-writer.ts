/**
 * Protobuf wire writer used by the generated etcd codecs. It writes **backwards**: the
 * generated code emits fields in reverse order, and a nested message is written before its
 * length prefix, so lengths are known without a separate sizing pass. The written bytes always
 * occupy `buf[pos, buf.length)`; {@link ProtoWriter.finish} copies them out.
 *
 * One shared writer serves every top-level `encode` (encode is synchronous and calls no user
 * code, so it is never re-entered); its scratch buffer grows on demand and is dropped back to
 * {@link DEFAULT_SCRATCH} after an unusually large message.
 */

/** Initial scratch size: covers typical requests and responses without growing. */
export const DEFAULT_SCRATCH = 64 * 1024;
/** Scratch buffers above this are not kept between encodes. */
export const MAX_KEPT_SCRATCH = 4 * 1024 * 1024;

const TWO_POW_31 = 0x80000000n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const LOW32 = 0xffffffffn;

/** Backward protobuf writer; see the module comment for the layout contract. */
export class ProtoWriter {
  /** Scratch buffer; output occupies `buf[pos, buf.length)`. */
  buf: Buffer;
  /** Start of the bytes written so far. */
  pos: number;

  constructor(size = DEFAULT_SCRATCH) {
    this.buf = Buffer.allocUnsafe(size);
    this.pos = size;
  }

  /** The shared writer, emptied; for top-level `encode` only. */
  static shared(): ProtoWriter {
    const w = sharedWriter;
    if (w.buf.length > MAX_KEPT_SCRATCH) w.buf = Buffer.allocUnsafe(DEFAULT_SCRATCH);
    w.pos = w.buf.length;
    return w;
  }

  /** Copies the written bytes into a new Buffer of exactly their length. */
  finish(): Buffer {
    const buf = this.buf;
    const out = Buffer.allocUnsafe(buf.length - this.pos);
    buf.copy(out, 0, this.pos, buf.length);
    return out;
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.buf.length - this.pos;
  }

  /** Writes one byte (a one-byte tag, or a bool). */
  byte(b: number): void {
    if (this.pos < 1) this.grow(1);
    this.buf[--this.pos] = b;
  }

  /** Writes a varint of a number in [0, 2^32) without checking it (tags, lengths). */
  varint32(v: number): void {
    if (this.pos < 5) this.grow(5);
    const buf = this.buf;
    if (v < 0x80) {
      buf[--this.pos] = v;
      return;
    }
    const size = v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
    let p = (this.pos -= size);
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }

  /** Writes a uint32 field value; throws RangeError unless it is an integer in [0, 2^32). */
  uint32(v: number): void {
    if (v >>> 0 !== v) throw new RangeError(`uint32 value out of range: ${v}`);
    this.varint32(v);
  }

  /**
   * Writes an int32 or enum field value; negative values take 10 bytes, sign-extended. Throws
   * RangeError unless it is an integer in [-2^31, 2^31).
   */
  int32(v: number): void {
    if ((v | 0) !== v) throw new RangeError(`int32 value out of range: ${v}`);
    if (v >= 0) this.varint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  /** Writes a bool varint. */
  bool(v: boolean): void {
    this.byte(v ? 1 : 0);
  }

  /** Writes an int64 varint; throws RangeError outside [-2^63, 2^63). */
  int64(v: bigint): void {
    if (v >= 0n) {
      if (v < TWO_POW_31) {
        this.varint32(Number(v));
        return;
      }
      if (v <= INT64_MAX) {
        this.varint64(Number(v & LOW32), Number(v >> 32n));
        return;
      }
    } else if (v >= INT64_MIN) {
      const u = BigInt.asUintN(64, v);
      this.varint64(Number(u & LOW32), Number(u >> 32n));
      return;
    }
    throw new RangeError(`int64 value out of range: ${v}`);
  }

  /** Writes a uint64 varint; throws RangeError outside [0, 2^64). */
  uint64(v: bigint): void {
    if (v >= 0n && v < TWO_POW_31) {
      this.varint32(Number(v));
      return;
    }
    if (v < 0n || v > UINT64_MAX) throw new RangeError(`uint64 value out of range: ${v}`);
    this.varint64(Number(v & LOW32), Number(v >> 32n));
  }

  /** Writes raw bytes followed (in wire order: preceded) by their length. */
  bytes(v: Uint8Array): void {
    const n = v.length;
    if (this.pos < n + 5) this.grow(n + 5);
    const buf = this.buf;
    const p = (this.pos -= n);
    if (n < 64) {
      for (let i = 0; i < n; i++) buf[p + i] = v[i]!;
    } else {
      buf.set(v, p);
    }
    this.varint32(n);
  }

  /** Writes a string as UTF-8 with its length prefix. */
  string(v: string): void {
    const n = Buffer.byteLength(v, 'utf8');
    if (this.pos < n + 5) this.grow(n + 5);
    this.pos -= n;
    this.buf.write(v, this.pos, n, 'utf8');
    this.varint32(n);
  }

  /**
   * End marker for a nested message: the offset from the buffer's end, which survives a
   * {@link grow}. Pair with {@link lengthSince}.
   */
  mark(): number {
    return this.buf.length - this.pos;
  }

  /** Writes the length prefix of everything written since {@link mark} returned `mark`. */
  lengthSince(mark: number): void {
    this.varint32(this.buf.length - this.pos - mark);
  }

  private varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.varint32(lo);
      return;
    }
    if (this.pos < 10) this.grow(10);
    const size = Math.ceil((64 - Math.clz32(hi)) / 7);
    const buf = this.buf;
    let p = (this.pos -= size);
    while (hi !== 0 || lo > 0x7f) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p] = lo;
  }

  private grow(need: number): void {
    const old = this.buf;
    const used = old.length - this.pos;
    let size = old.length * 2;
    while (size - used < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    old.copy(next, size - used, this.pos, old.length);
    this.buf = next;
    this.pos = size - used;
  }
}

const sharedWriter = new ProtoWriter();
