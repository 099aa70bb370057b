/**
 * Flow control for optimistic replication (etcd-io/raft `tracker/inflights.go`): a ring of the
 * MsgApp messages sent to one follower but not yet acknowledged, bounded both by count
 * (MaxInflightMsgs) and by payload bytes (MaxInflightBytes). When full, the leader stops
 * sending new entries to that follower until acknowledgements free slots.
 */
import { assert } from '../../util/assert';

/** A bounded FIFO of (last index, payload bytes) of in-flight append messages. */
export class Inflights {
  /** Ring position of the oldest in-flight message. */
  private start = 0;
  /** Number of in-flight messages. */
  private countValue = 0;
  /** Sum of payload bytes in flight. */
  private bytesValue = 0;
  /** Ring storage, grown lazily up to `size` (most followers never fill it). */
  private indexes: number[] = [];
  private sizes: number[] = [];

  /**
   * @param size maximum messages in flight (> 0)
   * @param maxBytes maximum payload bytes in flight; 0 means no byte limit
   */
  constructor(
    readonly size: number,
    readonly maxBytes = 0,
  ) {
    assert(Number.isSafeInteger(size) && size > 0, `inflights size must be positive, got ${size}`);
    assert(maxBytes >= 0, `inflights maxBytes must be ≥ 0, got ${maxBytes}`);
  }

  /** Messages in flight. */
  count(): number {
    return this.countValue;
  }

  /** Payload bytes in flight. */
  bytes(): number {
    return this.bytesValue;
  }

  /** An independent copy. */
  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes);
    c.start = this.start;
    c.countValue = this.countValue;
    c.bytesValue = this.bytesValue;
    c.indexes = this.indexes.slice();
    c.sizes = this.sizes.slice();
    return c;
  }

  /**
   * Records a message whose last entry is `index` carrying `bytes` of payload. Indexes must be
   * added in increasing order, and never when {@link full}.
   */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights');
    let next = this.start + this.countValue;
    if (next >= this.size) next -= this.size;
    if (this.countValue > 0) {
      let lastPos = next - 1;
      if (lastPos < 0) lastPos += this.size;
      assert(this.indexes[lastPos]! < index, `inflight index ${index} not increasing`);
    }
    if (next >= this.indexes.length) {
      // Grow lazily: only reachable while the ring has never wrapped.
      assert(next === this.indexes.length, 'inflights ring grew out of order');
      this.indexes.push(index);
      this.sizes.push(bytes);
    } else {
      this.indexes[next] = index;
      this.sizes[next] = bytes;
    }
    this.countValue++;
    this.bytesValue += bytes;
  }

  /** Frees every in-flight message whose last index is ≤ `to` (they were acknowledged). */
  freeLE(to: number): void {
    if (this.countValue === 0 || to < this.indexes[this.start]!) return;
    let idx = this.start;
    let freed = 0;
    let freedBytes = 0;
    while (freed < this.countValue) {
      if (to < this.indexes[idx]!) break;
      freedBytes += this.sizes[idx]!;
      freed++;
      idx++;
      if (idx >= this.size) idx -= this.size;
    }
    this.countValue -= freed;
    this.bytesValue -= freedBytes;
    assert(this.countValue >= 0 && this.bytesValue >= 0, 'inflights accounting went negative');
    // Restart at slot 0 when empty, so the lazily grown ring stays small.
    this.start = this.countValue === 0 ? 0 : idx;
  }

  /** True when no more messages may be sent: the count or the byte budget is exhausted. */
  full(): boolean {
    return this.countValue === this.size || (this.maxBytes !== 0 && this.bytesValue >= this.maxBytes);
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.start = 0;
    this.countValue = 0;
    this.bytesValue = 0;
  }
}
