/**
 * Group commit for the WAL: every write gets a sequence number; a waiter for write n is answered
 * only after a sync that *started after* write n was made has completed (the WAL's sync is the
 * durable write of everything framed so far). At most one sync is in flight; writes made while
 * it runs wait for the next one, which then covers all of them.
 *
 * A failed sync poisons it for good (see {@link WalFailedError}): every waiter and every later
 * wait rejects, and no further sync is attempted.
 */
import { WalFailedError } from './wal-errors';

interface Waiter {
  seq: number;
  resolve(): void;
  reject(err: Error): void;
}

/** The group-commit state machine; the actual sync is injected. */
export class WalGroupSync {
  private written = 0;
  private synced = 0;
  private inFlight = false;
  private scheduled = false;
  private waiters: Waiter[] = [];
  private failure: WalFailedError | undefined;

  /**
   * @param doSync syncs everything written so far (the WAL's tail file).
   * @param afterSync runs after every sync attempt settles (closing retired files).
   */
  constructor(
    private readonly doSync: () => Promise<void>,
    private readonly afterSync: () => void = () => {},
  ) {}

  /** Records that a write reached the page cache; returns its sequence number. */
  noteWrite(): number {
    return ++this.written;
  }

  /** The poisoning error, if a sync or write failed. */
  get failed(): WalFailedError | undefined {
    return this.failure;
  }

  /** Whether a sync is running now. */
  get syncing(): boolean {
    return this.inFlight;
  }

  /**
   * Resolves once write `seq` is covered by a completed sync. The sync starts on a microtask, so
   * writes made in the same synchronous run share it.
   */
  wait(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (seq <= this.synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything written so far is synced. */
  waitAll(): Promise<void> {
    return this.wait(this.written);
  }

  /** Everything up to `seq` was made durable by other means (a synchronous sync at a cut). */
  markSynced(seq: number): void {
    this.advance(seq);
  }

  /** Poisons: rejects every waiter now and every later wait. */
  fail(cause: unknown): WalFailedError {
    if (!this.failure) this.failure = cause instanceof WalFailedError ? cause : new WalFailedError(cause);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(this.failure);
    return this.failure;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.inFlight || this.failure || this.synced >= this.written || this.waiters.length === 0) return;
    const target = this.written;
    this.inFlight = true;
    let started: Promise<void>;
    try {
      started = this.doSync();
    } catch (err) {
      started = Promise.reject(err);
    }
    started.then(
      () => {
        this.inFlight = false;
        this.afterSync();
        this.advance(target);
        this.kick();
      },
      (err: unknown) => {
        this.inFlight = false;
        this.afterSync();
        this.fail(err);
      },
    );
  }

  private advance(seq: number): void {
    if (this.failure || seq <= this.synced) return;
    this.synced = seq;
    const done = this.waiters.filter((w) => w.seq <= seq);
    this.waiters = this.waiters.filter((w) => w.seq > seq);
    for (const w of done) w.resolve();
  }
}
