/**
 * {@link withTimeout} for a stream of operations that all share one timeout (a member's
 * proposals and linearizable reads): one timer for the whole stream instead of a setTimeout
 * and a clearTimeout per operation. With a single timeout, deadlines arrive in the order the
 * operations started, so a FIFO holds them and only its head is ever due first.
 */
import { CoreError } from './core-error';

interface Pending {
  deadline: number;
  /**
   * Runs the timeout; undefined once settled or expired. A settled entry lets go of it at once:
   * it closes over the operation's promise and result, and an entry can sit in the queue behind
   * a slower one for a while (long enough, under load, for the GC to promote what it holds).
   */
  expire: (() => void) | undefined;
}

/** One timeout for many operations. */
export class DeadlineQueue {
  /** FIFO from `head`; consumed slots are cleared so they hold nothing. */
  private queue: (Pending | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  /** @param timeoutMs the deadline of every operation, from when it is added */
  constructor(private readonly timeoutMs: number) {}

  /**
   * Resolves or rejects as `p` does if it settles within the timeout; otherwise runs `cleanup`
   * (forget the waiter) and rejects with CoreError `timeout` (etcd's "request timed out"). The
   * work itself may still complete later.
   */
  within<T>(p: Promise<T>, cleanup: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        deadline: performance.now() + this.timeoutMs,
        expire: () => {
          cleanup();
          reject(new CoreError('timeout'));
        },
      };
      this.queue.push(entry);
      this.arm();
      p.then(
        (v) => {
          if (entry.expire === undefined) return;
          entry.expire = undefined;
          this.trim();
          resolve(v);
        },
        (e: unknown) => {
          if (entry.expire === undefined) return;
          entry.expire = undefined;
          this.trim();
          reject(e);
        },
      );
    });
  }

  /** Operations still tracked (settled ones leave once they reach the head). */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Expires what is due and sets the timer for the next deadline. */
  private sweep(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (e.expire !== undefined && e.deadline > now) break;
      this.queue[this.head++] = undefined;
      const expire = e.expire;
      e.expire = undefined;
      expire?.();
    }
    this.trim();
    this.arm();
  }

  /**
   * Drops settled entries at the head (most operations settle long before their deadline, in
   * about the order they started), so the queue holds roughly what is still running.
   */
  private trim(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.expire === undefined) this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      // Reclaim the consumed prefix now and then rather than shifting per entry.
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private arm(): void {
    if (this.timer !== undefined || this.head >= this.queue.length) return;
    const wait = Math.max(0, this.queue[this.head]!.deadline - performance.now());
    this.timer = setTimeout(() => this.sweep(), wait);
    // The operations keep the process alive through their own I/O, not through their deadline.
    this.timer.unref();
  }
}
