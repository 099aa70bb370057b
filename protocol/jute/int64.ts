/**
 * Writing a signed 64-bit big-endian integer from a bigint, the jute `long`. Node's
 * `writeBigInt64BE` splits the value with BigInt shifts and masks, each a heap allocation
 * (≈ 100 ns a call); ZooKeeper's longs (zxids, times, session ids) are nearly always within
 * ±2^53, where one conversion to a number and integer arithmetic do it (≈ 30 ns). Every Stat in a
 * reply holds six of them.
 */

/** Largest magnitude written through a number: exactly representable as a double. */
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = -SAFE_MAX;
const TWO_32 = 4294967296;

/**
 * Writes `v` (taken modulo 2^64, as a signed long) at `offset` of `buf`, big-endian, the same
 * bytes as `buf.writeBigInt64BE(BigInt.asIntN(64, v), offset)`. The caller ensures 8 bytes fit.
 */
export function writeInt64BE(buf: Buffer, v: bigint, offset: number): void {
  if (v < SAFE_MIN || v > SAFE_MAX) {
    buf.writeBigInt64BE(BigInt.asIntN(64, v), offset);
    return;
  }
  const n = Number(v);
  // floor, so the high word of a negative value is its two's-complement high word.
  const hi = Math.floor(n / TWO_32);
  const lo = n - hi * TWO_32;
  buf[offset] = hi >>> 24;
  buf[offset + 1] = (hi >>> 16) & 0xff;
  buf[offset + 2] = (hi >>> 8) & 0xff;
  buf[offset + 3] = hi & 0xff;
  buf[offset + 4] = lo >>> 24;
  buf[offset + 5] = (lo >>> 16) & 0xff;
  buf[offset + 6] = (lo >>> 8) & 0xff;
  buf[offset + 7] = lo & 0xff;
}
