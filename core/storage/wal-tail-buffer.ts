/**
 * The WAL's bytes on their way to the tail segment: records framed by appends and not yet handed
 * to the disk (pending), and the batch the group commit is writing now (the flight). Appends only
 * frame into memory; the group commit takes everything pending in one durable write off the
 * event loop, so the main thread makes no write system call per append (a `pwrite` into the
 * page cache cost it ≈ 10 µs per ZooKeeper write, bench/RESULTS.md, session 29).
 *
 * A segment cut needs the old segment durable before the new one exists. The flight may not
 * have reached the file yet (its write waits for a pool thread), so {@link flushSync} writes the
 * flight's bytes again, synchronously, with the pending ones: the same bytes at the same offsets,
 * so whichever of the two writes lands last, the file holds the same content.
 */
import { writeChunksSync } from './wal-segment';

/** Bytes bound for one place in the tail segment. */
export interface WalTailChunk {
  /** Framed records, back to back. */
  chunks: Buffer[];
  /** Offset of the first byte in the segment. */
  position: number;
}

/** Pending and in-flight tail bytes; see the file comment. */
export class WalTailBuffer {
  private pending: Buffer[] = [];
  private pendingAt = 0;
  private flight: (WalTailChunk & { rewritten: boolean }) | undefined;

  /** Queues `bytes`, which belong at `position`, right after what is pending (if anything). */
  add(bytes: Buffer, position: number): void {
    if (this.pending.length === 0) this.pendingAt = position;
    this.pending.push(bytes);
  }

  /**
   * Takes everything pending as the new flight (undefined if nothing is pending). At most one
   * flight exists: the caller lands it before taking the next.
   */
  take(): WalTailChunk | undefined {
    if (this.pending.length === 0) return undefined;
    if (this.flight) throw new Error('wal: a tail write is already in flight');
    const flight = { chunks: this.pending, position: this.pendingAt, rewritten: false };
    this.pending = [];
    this.flight = flight;
    return { chunks: flight.chunks, position: flight.position };
  }

  /** The flight's write has settled. */
  landed(): void {
    this.flight = undefined;
  }

  /**
   * Writes, synchronously through `fd` (the file the flight and the pending bytes belong to),
   * the flight's bytes unless an earlier call already did, then the pending ones; pending is
   * then empty. The caller syncs `fd` afterwards.
   */
  flushSync(fd: number): void {
    if (this.flight && !this.flight.rewritten) {
      writeChunksSync(fd, this.flight.chunks, this.flight.position);
      this.flight.rewritten = true;
    }
    if (this.pending.length > 0) writeChunksSync(fd, this.pending, this.pendingAt);
    this.pending = [];
  }
}
