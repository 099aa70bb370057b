/**
 * The password an Apache ZooKeeper server gives session `id`: 16 bytes of `java.util.Random`
 * seeded with `id ^ 0xB3415C00` (ZooKeeperServer.generatePasswd; the constant is in its source,
 * so anyone who knows a session id can compute it). Coracle accepts it only for sessions
 * `zk-migrate` carried over from a ZooKeeper's files (mapping/session-record.ts), whose clients
 * reconnect with it; its own sessions' passwords come from the cluster secret.
 */
import { timingSafeEqual } from 'node:crypto';
import { PASSWORD_BYTES } from './session-password';

/** java.util.Random's multiplier, addend and 48-bit state mask. */
const MULTIPLIER = 0x5deece66dn;
const ADDEND = 0xbn;
const MASK = (1n << 48n) - 1n;
const SUPER_SECRET = 0xb3415c00n;

/** A java.util.Random: the linear congruential generator its contract fixes. */
class JavaRandom {
  private seed: bigint;

  constructor(seed: bigint) {
    this.seed = (BigInt.asIntN(64, seed) ^ MULTIPLIER) & MASK;
  }

  /** Random.nextInt(): the high 32 of the 48 state bits, as a signed int. */
  nextInt(): number {
    this.seed = (this.seed * MULTIPLIER + ADDEND) & MASK;
    return Number(BigInt.asIntN(32, this.seed >> 16n));
  }

  /** Random.nextBytes: each int fills up to four bytes, low byte first. */
  nextBytes(out: Buffer): void {
    for (let i = 0; i < out.length; ) {
      let rnd = this.nextInt();
      for (let n = Math.min(out.length - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
    }
  }
}

/** The password ZooKeeper gives session `id`. */
export function zooKeeperPassword(id: bigint): Buffer {
  const out = Buffer.alloc(PASSWORD_BYTES);
  new JavaRandom(BigInt.asIntN(64, id) ^ SUPER_SECRET).nextBytes(out);
  return out;
}

/** True when `passwd` is the password ZooKeeper gives session `id` (constant-time compare). */
export function zooKeeperPasswordMatches(id: bigint, passwd: Buffer): boolean {
  return passwd.length === PASSWORD_BYTES && timingSafeEqual(zooKeeperPassword(id), passwd);
}
