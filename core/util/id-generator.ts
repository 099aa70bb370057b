/**
 * Unique 64-bit ids for proposals and leases, after etcd's idutil: the low 16 bits of the member
 * id, then 40 bits of milliseconds at start, then a counter in the low 8 bits that carries into
 * the time bits. Ids from different members and different runs do not collide in practice, and
 * the top bit is cleared so they stay positive as int64 (lease ids travel as int64).
 */
import { Clock } from './clock';

/** Generates ids. */
export class IdGenerator {
  private prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, clock: Clock) {
    this.prefix = (memberId & 0xffffn) << 48n;
    this.suffix = (BigInt(Math.floor(clock.wallMs())) & 0xff_ffff_ffffn) << 8n;
  }

  /** The next id (positive, non-zero). */
  next(): bigint {
    this.suffix = (this.suffix + 1n) & 0xffff_ffff_ffffn;
    const id = (this.prefix | this.suffix) & 0x7fff_ffff_ffff_ffffn;
    return id === 0n ? this.next() : id;
  }
}
