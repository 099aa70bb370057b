/**
 * A connection's outgoing frames, written together: every frame sent during one pass of the
 * event loop's microtasks leaves in one `writev` instead of one `write` each. A client that
 * pipelines (Curator's and kazoo's async calls) gets the replies of one group commit, and the
 * notifications before them, in one system call; a loopback send costs the main thread
 * ≈ 25 µs on the test machine, more than most of a write's own work (bench/RESULTS.md, session
 * 29). A lone reply pays only a cork and a `process.nextTick`.
 *
 * The slow-reader bound is checked once the frames were handed to the socket: what is still
 * queued then is what the client has not read.
 */
import { Socket } from 'node:net';

/** Coalesces one socket's writes per microtask pass; see the file comment. */
export class FrameSink {
  private corked = false;

  /**
   * @param maxQueued bytes the socket may hold unsent before `onSlowReader` is told.
   * @param onSlowReader called with the queued byte count (the owner closes the connection).
   */
  constructor(
    private readonly socket: Socket,
    private readonly maxQueued: number,
    private readonly onSlowReader: (queued: number) => void,
  ) {}

  /** Queues `frame` behind the frames already sent; it leaves when the current pass ends. */
  write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(release, this);
    }
    this.socket.write(frame);
  }

  /** Hands the pass's frames to the socket (one writev) and checks the slow-reader bound. */
  release(): void {
    this.corked = false;
    this.socket.uncork();
    if (this.socket.writableLength > this.maxQueued) this.onSlowReader(this.socket.writableLength);
  }
}

function release(sink: FrameSink): void {
  sink.release();
}
