/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of fields, newest at index 1, whose
 * total size (name + value + 32 per entry) never exceeds its maximum; adding evicts from the
 * oldest end, an entry larger than the maximum empties the table (§4.4).
 *
 * Stored as a ring buffer so adding and evicting cost O(1); the maximum number of entries is
 * bounded by `limit / 32`, so the ring is allocated once.
 */

import { HpackError } from './hpack-error';
import { type HpackField, HPACK_ENTRY_OVERHEAD, hpackFieldSize } from './hpack-field';

/** The dynamic table of one HPACK context (one direction of one connection). */
export class HpackDynamicTable {
  /** Entries, oldest at `head`; `count` of them from there, wrapping. */
  private ring: HpackField[];
  private head = 0;
  private entries = 0;
  private bytes = 0;
  private max: number;

  /**
   * @param limit the largest maximum size the peer may choose: the SETTINGS_HEADER_TABLE_SIZE
   *   the decoding side advertised (4096 unless changed). The table starts at this size (§4.2).
   */
  constructor(readonly limit: number) {
    this.max = limit;
    this.ring = new Array<HpackField>(Math.max(1, Math.floor(limit / HPACK_ENTRY_OVERHEAD)));
  }

  /** Entries in the table. */
  get length(): number {
    return this.entries;
  }

  /** Current size in the §4.1 sense. */
  get size(): number {
    return this.bytes;
  }

  /** Current maximum size (set by dynamic table size updates). */
  get maxSize(): number {
    return this.max;
  }

  /** Entry `index` counted from the newest (1 = most recently added). Undefined when absent. */
  get(index: number): HpackField | undefined {
    if (index < 1 || index > this.entries) return undefined;
    return this.ring[(this.head + this.entries - index) % this.ring.length];
  }

  /** Adds `field` as the newest entry, evicting as §4.4 says. */
  add(field: HpackField): void {
    const size = hpackFieldSize(field);
    if (size > this.max) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.max - size);
    this.ring[(this.head + this.entries) % this.ring.length] = field;
    this.entries += 1;
    this.bytes += size;
  }

  /** Applies a dynamic table size update (§6.3); above the limit is a decoding error. */
  setMaxSize(max: number): void {
    if (max > this.limit) throw new HpackError(`table size update ${max} above the limit ${this.limit}`);
    this.max = max;
    this.evictTo(max);
  }

  private evictTo(target: number): void {
    while (this.bytes > target && this.entries > 0) {
      const oldest = this.ring[this.head];
      this.ring[this.head] = undefined as unknown as HpackField; // let the buffers go
      this.head = (this.head + 1) % this.ring.length;
      this.entries -= 1;
      this.bytes -= hpackFieldSize(oldest);
    }
  }
}
