/**
 * A {@link Backend} over an inner backend (LMDB) that makes written batches readable at once and
 * commits them to the inner backend later, in the background (etcd's backend read buffer and
 * batch transaction: applied state is served from memory while bbolt commits every 100 ms).
 * With a WAL carrying durability, the inner commit is off the acknowledgement path.
 *
 * Contracts (they differ from backend.ts where said):
 * - `write(fn)` runs `fn` at once, synchronously, against the view inner committed state ⊕
 *   every buffered batch in order ⊕ this batch's own writes. If `fn` throws, nothing is kept
 *   and the promise rejects. Otherwise the batch is applied (visible to every later `read` and
 *   `write`) before `write` returns, gets the sequence number {@link appliedSeq}, and the
 *   promise resolves with `fn`'s result: on the next microtask while the buffered bytes are
 *   within the bound, else once flushes brought them back under it (back-pressure; the batch
 *   is applied either way, so a caller that does not wait defeats the bound).
 *   **Resolution does not mean durable**: that is {@link whenDurable} / {@link onDurable}.
 * - `read(fn)` sees the same applied view (not only the inner's durable state).
 * - Batches reach the inner backend in order, several coalesced into one inner transaction, one
 *   inner write at a time, started as soon as the previous one resolved (the inner commit is the
 *   pacing). After a crash of the inner backend its state is therefore a prefix of the batches.
 * - A failed inner write poisons the buffer: durability waiters and later writes reject; reads
 *   keep serving the applied view. Restart and replay the WAL.
 * - Keys and values written are copied: the buffer owns them.
 */
import { Backend, BackendStats, Change, CommitTiming, Entry, IterateOptions, ReadTxn, WriteTxn, applyChanges } from './backend';
import { WRITE_BUFFER_FLUSH_DELAY_MS, WRITE_BUFFER_MAX_BYTES_DEFAULT, WRITE_BUFFER_MAX_FLUSH_BYTES } from '../util/limits';
import { changeBytes, WriteLayer } from './write-buffer-layer';
import { mergeIterate } from './write-buffer-merge';

/** How long a measurement of the inner backend's sizes is reused by {@link WriteBuffer.stats}. */
const STATS_REFRESH_MS = 100;

/** Options for {@link WriteBuffer}. */
export interface WriteBufferOptions {
  /** Buffered bytes beyond which `write` resolves only after flushing (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Bytes of batches coalesced into one inner transaction (default 16 MiB; at least one batch). */
  maxFlushBytes?: number;
  /**
   * How long applied batches gather before an inner commit starts (default
   * {@link WRITE_BUFFER_FLUSH_DELAY_MS}; 0 = on the next microtask). `flush()` and memory
   * pressure (over half of `maxBufferedBytes`) do not wait.
   */
  flushDelayMs?: number;
}

/** One applied batch not yet durable in the inner backend. */
interface Batch {
  seq: number;
  changes: WriteLayer;
  bytes: number;
}

interface SeqWaiter {
  seq: number;
  resolve(): void;
  reject(err: Error): void;
}

/** The write buffer. */
export class WriteBuffer implements Backend {
  private readonly overlay = new WriteLayer();
  /** Applied batches not yet durable, oldest first; the first `inFlight` are being committed. */
  private batches: Batch[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  private seq = 0;
  private durable = 0;
  private bytes = 0;
  /** Bytes of every batch the inner backend has committed so far (grows for good). */
  private committedBytes = 0;
  /** The inner backend's stats when last measured, and `committedBytes` then. */
  private innerStats: { at: number; stats: BackendStats; committedBytes: number } | undefined;
  private failure: Error | undefined;
  private closed = false;
  private durableWaiters: SeqWaiter[] = [];
  private pressureWaiters: Array<() => void> = [];
  private readonly listeners = new Set<(seq: number) => void>();
  private readonly maxBytes: number;
  private readonly maxFlushBytes: number;
  private readonly flushDelayMs: number;
  private flushTimer: NodeJS.Timeout | undefined;
  /** `flush()` asked for everything up to this sequence: commit without delay until durable. */
  private forcedUpTo = 0;

  constructor(
    private readonly inner: Backend,
    options: WriteBufferOptions = {},
  ) {
    this.maxBytes = options.maxBufferedBytes ?? WRITE_BUFFER_MAX_BYTES_DEFAULT;
    this.maxFlushBytes = options.maxFlushBytes ?? WRITE_BUFFER_MAX_FLUSH_BYTES;
    this.flushDelayMs = options.flushDelayMs ?? WRITE_BUFFER_FLUSH_DELAY_MS;
  }

  /** Sequence number of the last applied batch (the one just written, right after `write`). */
  get appliedSeq(): number {
    return this.seq;
  }

  /** Sequence number of the last batch durable in the inner backend. */
  get durableSeq(): number {
    return this.durable;
  }

  /** Bytes held by batches not yet durable. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Resolves once batch `seq` is durable in the inner backend; rejects if the buffer failed. */
  whenDurable(seq: number): Promise<void> {
    if (seq <= this.durable) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => this.durableWaiters.push({ seq, resolve, reject }));
  }

  /**
   * Adds a listener told the new durable sequence number after each inner commit (cheap, must
   * not throw). Returns the function that removes it.
   */
  onDurable(listener: (seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every batch applied so far is durable in the inner backend. */
  flush(): Promise<void> {
    this.forcedUpTo = this.seq;
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.flushScheduled = false;
    }
    this.scheduleFlush();
    return this.whenDurable(this.seq);
  }

  read<T>(fn: (txn: ReadTxn) => T): T {
    return this.inner.read((innerTxn) =>
      fn({
        get: (db, key) => this.lookup(innerTxn, undefined, db, key),
        iterate: (db, options) => this.iterateView(innerTxn, undefined, db, options),
      }),
    );
  }

  writeChanges(changes: Iterable<Change>): Promise<void> {
    return this.write((txn) => applyChanges(txn, changes));
  }

  write<T>(fn: (txn: WriteTxn) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('write buffer is closed'));
    if (this.failure) return Promise.reject(this.failure);
    const own = new WriteLayer();
    let bytes = 0;
    let result: T;
    try {
      result = this.inner.read((innerTxn) =>
        fn({
          get: (db, key) => this.lookup(innerTxn, own, db, key),
          iterate: (db, options) => this.iterateView(innerTxn, own, db, options),
          put: (db, key, value) => {
            const change = { key, value, seq: 0 };
            own.set(db, change.key.toString('latin1'), change);
            bytes += changeBytes(change);
          },
          del: (db, key) => {
            const change = { key, value: null, seq: 0 };
            own.set(db, change.key.toString('latin1'), change);
            bytes += changeBytes(change);
          },
        }),
      );
    } catch (err) {
      return Promise.reject(err);
    }
    this.apply(own, bytes);
    if (this.bytes <= this.maxBytes) return Promise.resolve(result);
    return new Promise<T>((resolve) => this.pressureWaiters.push(() => resolve(result)));
  }

  /**
   * The inner backend's sizes plus what it will hold once the buffered batches are committed,
   * so a quota check sees writes as they are applied, not a flush later. Measuring the inner
   * backend walks its tree stats, so it is measured at most every {@link STATS_REFRESH_MS};
   * bytes committed since count from the batches' sizes. In-use bytes are an estimate above
   * the truth between measurements (a deletion counts as added bytes until then).
   */
  stats(): BackendStats {
    const now = performance.now();
    if (!this.innerStats || now - this.innerStats.at >= STATS_REFRESH_MS) {
      this.innerStats = { at: now, stats: this.inner.stats(), committedBytes: this.committedBytes };
    }
    const { stats, committedBytes } = this.innerStats;
    const inUse = stats.sizeInUseBytes + (this.committedBytes - committedBytes) + this.bytes;
    return { sizeBytes: Math.max(stats.sizeBytes, inUse), sizeInUseBytes: inUse };
  }

  /** Flushes first, then copies the inner backend: the copy holds at least every batch applied before the call. */
  async copyTo(path: string): Promise<void> {
    await this.flush();
    await this.inner.copyTo(path);
  }

  /** Inner commits are reported (they are the LMDB commits). */
  observeCommits(observer: ((timing: CommitTiming) => void) | undefined): void {
    this.inner.observeCommits(observer);
  }

  async compactFile(): Promise<void> {
    await this.flush();
    await this.inner.compactFile();
    // The file shrank: measure afresh (a compaction's deletions counted as added bytes).
    this.innerStats = undefined;
  }

  /** Flushes every applied batch, then closes the inner backend. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    await this.inner.close();
  }

  /** Folds a successful batch into the overlay and queues it for the inner backend. */
  private apply(own: WriteLayer, bytes: number): void {
    const seq = ++this.seq;
    if (own.empty && this.batches.length === 0) {
      this.markDurable(seq);
      return;
    }
    own.forEach((db, k, c) => {
      c.seq = seq;
      this.overlay.set(db, k, c);
    });
    this.batches.push({ seq, changes: own, bytes });
    this.bytes += bytes;
    this.scheduleFlush();
  }

  /** Whether a read of `db` must look past the inner backend (a batch or the overlay changed it). */
  private pending(own: WriteLayer | undefined, db: string): boolean {
    return this.overlay.holds(db) || (own?.holds(db) ?? false);
  }

  private lookup(innerTxn: ReadTxn, own: WriteLayer | undefined, db: string, key: Buffer): Buffer | undefined {
    if (!this.pending(own, db)) return innerTxn.get(db, key);
    const k = key.toString('latin1');
    const c = own?.get(db, k) ?? this.overlay.get(db, k);
    if (c) return c.value ?? undefined;
    return innerTxn.get(db, key);
  }

  private iterateView(innerTxn: ReadTxn, own: WriteLayer | undefined, db: string, options: IterateOptions = {}): Iterable<Entry> {
    const { start, end, reverse = false, limit } = options;
    // Nothing pending in `db` (a start-up scan, or any scan after a flush): the inner range as is.
    if (!this.pending(own, db)) return innerTxn.iterate(db, options);
    const s = start?.toString('latin1') ?? '';
    const e = end?.toString('latin1');
    // The inner range carries no limit: tombstones above may hide some of its entries. It does
    // not borrow either: the merge holds an inner entry while it yields the layers' ones.
    const innerRange = innerTxn.iterate(db, { start, end, reverse });
    const layers = [this.overlay.range(db, s, e, reverse)];
    // A batch may write while iterating its own view: iterate a copy of its range.
    if (own) layers.push(own.snapshotRange(db, s, e, reverse));
    return mergeIterate(innerRange, layers, reverse, limit);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      this.flushTimer = undefined;
      this.pump();
    };
    const urgent = this.flushDelayMs === 0 || this.forcedUpTo > this.durable || this.bytes > this.maxBytes / 2;
    // At least a microtask, so that batches written in the same synchronous run share one
    // inner commit; otherwise the delay, so that many runs do.
    if (urgent) queueMicrotask(run);
    else {
      this.flushTimer = setTimeout(run, this.flushDelayMs);
      // Nothing is lost if the process ends meanwhile: the WAL replays what LMDB lacks.
      this.flushTimer.unref();
    }
  }

  /** Starts one inner write with the oldest buffered batches, if none is in flight. */
  private pump(): void {
    if (this.inFlight > 0 || this.failure || this.batches.length === 0) return;
    let n = 0;
    let bytes = 0;
    while (n < this.batches.length && (n === 0 || bytes + this.batches[n]!.bytes <= this.maxFlushBytes)) bytes += this.batches[n++]!.bytes;
    const group = this.batches.slice(0, n);
    this.inFlight = n;
    const changes: Change[] = [];
    for (const b of group) b.changes.forEach((db, _k, c) => changes.push([db, c.key, c.value]));
    // Blind writes: the engine may apply them off the event loop (backend.ts).
    this.inner
      .writeChanges(changes)
      .then(
        () => this.committed(group),
        (err: unknown) => this.fail(err),
      );
  }

  /** The inner backend made `group` durable: drop it from the overlay and answer waiters. */
  private committed(group: Batch[]): void {
    const last = group[group.length - 1]!.seq;
    for (const b of group) {
      b.changes.forEach((db, k) => this.overlay.dropIfUpTo(db, k, last));
      this.bytes -= b.bytes;
      this.committedBytes += b.bytes;
    }
    this.batches.splice(0, group.length);
    this.inFlight = 0;
    this.markDurable(last);
    this.releasePressure();
    if (this.batches.length > 0) this.scheduleFlush();
  }

  private markDurable(seq: number): void {
    if (seq <= this.durable) return;
    this.durable = seq;
    const done = this.durableWaiters.filter((w) => w.seq <= seq);
    this.durableWaiters = this.durableWaiters.filter((w) => w.seq > seq);
    for (const w of done) w.resolve();
    for (const l of this.listeners) l(seq);
  }

  private releasePressure(): void {
    if (this.bytes > this.maxBytes) return;
    const waiters = this.pressureWaiters;
    this.pressureWaiters = [];
    for (const w of waiters) w();
  }

  private fail(err: unknown): void {
    this.inFlight = 0;
    this.failure = new Error(`write buffer: inner write failed, no further writes: ${err instanceof Error ? err.message : String(err)}`);
    const waiters = this.durableWaiters;
    this.durableWaiters = [];
    for (const w of waiters) w.reject(this.failure);
    // Writers held by back-pressure are answered: their batches are applied, and durability
    // waiters now reject, which is what tells them the truth.
    const pressured = this.pressureWaiters;
    this.pressureWaiters = [];
    for (const w of pressured) w();
  }
}
