/**
 * Reads WAL segment files for a replay through one small window that slides over each file,
 * instead of reading each file whole.
 *
 * Why: a segment is preallocated (64 MiB by default) and a replay used to `readFileSync` it
 * whole. The read itself is cheap (the file is in the page cache), but the fresh 64 MiB buffer
 * is not: the kernel faults in every page of it as it copies, ≈ 200 ms per segment on the
 * benchmark VM (bench/RESULTS.md, session 31), against ≈ 6 ms to read the same file through a
 * 1 MiB buffer that is reused. The window grows only when a single frame is larger than it.
 */
import * as fs from 'node:fs';
import { FrameSource } from './wal-record';

/** The window's usual size: one read per step, and the chunk a zero check compares at once. */
export const WAL_READ_WINDOW_BYTES = 1024 * 1024;

/**
 * A {@link FrameSource} over one open file at a time. `bytes(pos, n)` reads from the file only
 * when the range is not already in the window, and then reads as much as the window holds from
 * `pos` on, so a forward scan makes one read per window and a backward walk in window-sized
 * steps one read per step. Views stay valid until the next call.
 */
export class WalSegmentReader implements FrameSource {
  private buf: Buffer = Buffer.allocUnsafeSlow(WAL_READ_WINDOW_BYTES);
  /** File offset of `buf[0]`, and how many bytes of `buf` hold the file from there. */
  private start = 0;
  private held = 0;
  private fd = -1;
  private file = '';
  size = 0;

  /** Points the window at `fd` (the caller opens and closes it); `file` names it in errors. */
  open(fd: number, file: string): void {
    this.fd = fd;
    this.file = file;
    this.size = fs.fstatSync(fd).size;
    this.start = 0;
    this.held = 0;
  }

  /** See {@link FrameSource.bytes}. Throws if the file is shorter than it was at `open`. */
  bytes(pos: number, n: number): Buffer {
    if (pos < this.start || pos + n > this.start + this.held) this.fill(pos, n);
    return this.buf.subarray(pos - this.start, pos - this.start + n);
  }

  /**
   * Offset just past the last byte at or after `from` that is not zero (`from` if all are):
   * walked back from the end in window-sized steps, each compared with zeros at once, since a
   * preallocated segment is mostly zeros.
   */
  lastNonZero(from: number): number {
    const zeros = Buffer.alloc(WAL_READ_WINDOW_BYTES);
    for (let hi = this.size; hi > from; hi -= WAL_READ_WINDOW_BYTES) {
      const lo = Math.max(from, hi - WAL_READ_WINDOW_BYTES);
      const chunk = this.bytes(lo, hi - lo);
      if (chunk.equals(zeros.subarray(0, hi - lo))) continue;
      for (let i = chunk.length - 1; i >= 0; i--) if (chunk[i] !== 0) return lo + i + 1;
    }
    return from;
  }

  /** Makes the window hold `[pos, pos + n)`, keeping what it already holds of that range. */
  private fill(pos: number, n: number): void {
    const old = this.buf;
    if (n > old.length) this.buf = Buffer.allocUnsafeSlow(Math.max(n, 2 * old.length));
    let kept = 0;
    if (pos >= this.start && pos < this.start + this.held) {
      kept = this.start + this.held - pos;
      old.copy(this.buf, 0, pos - this.start, this.held);
    }
    this.start = pos;
    const want = Math.min(this.buf.length, this.size - pos);
    while (kept < want) {
      const got = fs.readSync(this.fd, this.buf, kept, want - kept, pos + kept);
      if (got === 0) throw new Error(`${this.file} ended at ${pos + kept} while being read (it had ${this.size} bytes)`);
      kept += got;
    }
    this.held = kept;
  }
}
