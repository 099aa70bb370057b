/**
 * Adler-32 (RFC 1950 §8.2), the checksum ZooKeeper's snapshots and transaction logs carry
 * (java.util.zip.Adler32). Node's zlib computes it only inside a stream, so it is done here.
 */

const MOD = 65521;
/** Most bytes summed before the sums must be reduced, so that they stay below 2^53. */
const CHUNK = 1 << 20;

/**
 * The Adler-32 of `buf[start, end)` continuing from `seed` (1 for a fresh sum), as the unsigned
 * 32-bit value Java's `Adler32.getValue()` returns.
 */
export function adler32(buf: Uint8Array, start = 0, end = buf.length, seed = 1): number {
  let a = seed & 0xffff;
  let b = seed >>> 16;
  let i = start;
  while (i < end) {
    const stop = Math.min(end, i + CHUNK);
    for (; i < stop; i++) {
      a += buf[i]!;
      b += a;
    }
    a %= MOD;
    b %= MOD;
  }
  return (b * 65536 + a) >>> 0;
}
