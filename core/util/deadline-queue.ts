/**
 * {@link withTimeout} for a stream of operations that all share one timeout (a member's
 * proposals and linearizable reads): one timer for the whole stream instead of a setTimeout
 * and a clearTimeout per operation. With a single timeout, deadlines arrive in the order the
 * operations started, so a FIFO holds them and only its head is ever due first.
 */
import { CoreError } from './core-error';

interface Pending {
  deadline: number;
  /** Settled by its promise or expired: skip it. */
  done: boolean;
  expire(): void;
}

/** One timeout for many operations. */
export class DeadlineQueue {
  private queue: Pending[] = [];
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
        done: false,
        expire: () => {
          cleanup();
          reject(new CoreError('timeout'));
        },
      };
      this.queue.push(entry);
      this.arm();
      p.then(
        (v) => {
          if (entry.done) return;
          entry.done = true;
          this.trim();
          resolve(v);
        },
        (e: unknown) => {
          if (entry.done) return;
          entry.done = true;
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
      if (!e.done && e.deadline > now) break;
      this.head++;
      if (!e.done) {
        e.done = true;
        e.expire();
      }
    }
    this.trim();
    this.arm();
  }

  /**
   * Drops settled entries at the head (most operations settle long before their deadline, in
   * about the order they started), so the queue holds roughly what is still running.
   */
  private trim(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.done) this.head++;
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
