/**
 * A connection's outgoing frames, written together while more are due: a frame sent while the
 * connection still has requests in flight opens a batch that every frame of the same pass of
 * the event loop's microtasks joins, and the batch leaves in one `writev`. A client that
 * pipelines (Curator's and kazoo's async calls) thus gets the replies of one group commit, and
 * the notifications before them, in one system call; a loopback send costs the main thread
 * ≈ 25 µs on the test machine, more than most of a write's own work (bench/RESULTS.md, session
 * 29). A frame with nothing due behind it leaves at once, as before: holding a lone reply to
 * the end of the pass would delay it behind the other connections' work.
 *
 * The slow-reader bound is checked once the frames were handed to the socket (a batch when it
 * leaves, a lone frame at once): what is still queued then is what the client has not read.
 */
import { Socket } from 'node:net';

/** Coalesces one socket's writes per microtask pass while more are due; see the file comment. */
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

  /**
   * Sends `frame` after the frames already sent. With `moreDue` (the connection expects more
   * replies) or a batch already open, it leaves with the batch when the current pass ends;
   * otherwise at once.
   */
  write(frame: Buffer, moreDue: boolean): void {
    if (!this.corked && moreDue) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(release, this);
    }
    this.socket.write(frame);
    // A lone frame (a reply or a watch notification with nothing due behind it) is checked now:
    // a client that never reads may be sent nothing else.
    if (!this.corked) this.checkBound();
  }

  /** Hands the pass's frames to the socket (one writev) and checks the slow-reader bound. */
  release(): void {
    this.corked = false;
    this.socket.uncork();
    this.checkBound();
  }

  private checkBound(): void {
    if (this.socket.writableLength > this.maxQueued) this.onSlowReader(this.socket.writableLength);
  }
}

function release(sink: FrameSink): void {
  sink.release();
}
