/**
 * Randomness as an injected dependency: production uses crypto, tests and the simulator use a
 * seeded generator so that a failing run replays exactly from its seed.
 */
import { randomBytes } from 'node:crypto';

/** A source of random numbers. */
export interface Rand {
  /** A uniformly random integer in [0, n); n must be a positive safe integer. */
  intn(n: number): number;
  /** A uniformly random 64-bit unsigned integer. */
  uint64(): bigint;
}

/** Cryptographically strong randomness for production. */
export class CryptoRand implements Rand {
  intn(n: number): number {
    if (!(n > 0 && Number.isSafeInteger(n))) throw new RangeError(`intn: bad bound ${n}`);
    return randomBytes(6).readUIntBE(0, 6) % n;
  }
  uint64(): bigint {
    return randomBytes(8).readBigUInt64BE(0);
  }
}

/**
 * A deterministic generator (xoshiro128**), seeded with a 32-bit integer. Same seed, same
 * sequence, on every platform.
 */
export class SeededRand implements Rand {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(readonly seed: number) {
    // splitmix32 expands the seed so that nearby seeds give unrelated streams.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** The next 32 random bits as an unsigned integer. */
  next32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  intn(n: number): number {
    if (!(n > 0 && Number.isSafeInteger(n))) throw new RangeError(`intn: bad bound ${n}`);
    if (n <= 0x1_0000_0000) return Math.floor((this.next32() / 0x1_0000_0000) * n);
    const hi = this.next32() >>> 11; // 21 bits
    const lo = this.next32();
    return Math.floor(((hi * 0x1_0000_0000 + lo) / 2 ** 53) * n);
  }

  uint64(): bigint {
    return (BigInt(this.next32()) << 32n) | BigInt(this.next32());
  }

  /** True with probability p (0 ≤ p ≤ 1). */
  chance(p: number): boolean {
    return this.next32() / 0x1_0000_0000 < p;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
