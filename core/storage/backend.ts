/**
 * The storage seam (DESIGN §4): synchronous transactions over named, ordered sub-databases of
 * binary keys and values, with explicit durability.
 *
 * Contracts every implementation keeps:
 * - Keys order bytewise. Iteration ranges are half-open `[start, end)`; an absent `end` means
 *   "to the last key".
 * - A write transaction is atomic: after a crash either all of its writes are present or none.
 * - {@link Backend.write} resolves only once the transaction is durable (fsynced), unless the
 *   backend was opened with durability off. Concurrent `write` calls may share one fsync (group
 *   commit); they are applied in call order.
 * - Readers ({@link Backend.read}) see the state of the last *durable* write transaction, never a
 *   transaction still being committed. This is what lets the MVCC layer answer reads at the last
 *   durable revision while the next batch is being fsynced.
 * - Buffers returned by reads are the caller's to keep, and nobody may modify them: LMDB's are
 *   copies made for that read, the write buffer's and the memory backend's are the arrays handed
 *   to `put`. The one exception is an iteration with {@link IterateOptions.borrow}.
 */

/** One key/value pair from an iteration. */
export interface Entry {
  key: Buffer;
  value: Buffer;
}

/** Options for iterating a sub-database. */
export interface IterateOptions {
  /** Inclusive start key (default: the first key). */
  start?: Buffer;
  /** Exclusive end key (default: after the last key). */
  end?: Buffer;
  /** Iterate from the end backwards (then `start` is still the inclusive low bound). */
  reverse?: boolean;
  /** Stop after this many entries. */
  limit?: number;
  /**
   * Values may be views of the engine's read buffer, valid only until the next step of this
   * iteration or any other read: for a scan that decodes each value at once and keeps none of its
   * bytes (the key index rebuild reads every record of the store, and a copy of each was most of
   * its allocation). Keys are the caller's as always.
   */
  borrow?: boolean;
}

/** Read access to the sub-databases. Valid only inside the callback that received it. */
export interface ReadTxn {
  get(db: string, key: Buffer): Buffer | undefined;
  /** Entries of `db` in key order (or reverse), within the bounds. */
  iterate(db: string, options?: IterateOptions): Iterable<Entry>;
}

/** Read and write access. Reads see this transaction's own earlier writes. */
export interface WriteTxn extends ReadTxn {
  /**
   * Sets `key` to `value`. The arrays are handed over: a backend may keep them (the write
   * buffer does, until its flush), so the caller must not modify them afterwards. Every caller
   * passes freshly encoded arrays or shared constants nobody writes to; copying them on every
   * put was two allocations per key on the hot write path.
   */
  put(db: string, key: Buffer, value: Buffer): void;
  /** Removes a key; removing an absent key is a no-op. `key` is handed over as in {@link put}. */
  del(db: string, key: Buffer): void;
}

/** Size facts for metrics, Status and the quota check. */
export interface BackendStats {
  /** Bytes the file occupies on disk (etcd `dbSize`). */
  sizeBytes: number;
  /** Bytes holding live data (etcd `dbSizeInUse`). */
  sizeInUseBytes: number;
}

/**
 * Timings of one durable write transaction, in seconds, for metrics
 * (`etcd_disk_backend_commit_duration_seconds`, `etcd_disk_wal_fsync_duration_seconds`: the raft
 * log lives in the same transactions, so the sync of a write is the WAL fsync too).
 */
export interface CommitTiming {
  /** From the start of the transaction until it is durable. */
  commitSeconds: number;
  /** The part spent waiting for the data to reach the disk (0 when durability is off). */
  syncSeconds: number;
}

/** One blind write of {@link Backend.writeChanges}: `[db, key, value]`, a null value deletes. */
export type Change = readonly [db: string, key: Buffer, value: Buffer | null];

/** A durable, transactional, ordered key/value store. */
export interface Backend {
  /** Runs `fn` against a consistent snapshot of the last durable state. */
  read<T>(fn: (txn: ReadTxn) => T): T;
  /**
   * Runs `fn` in a write transaction and resolves with its result once the transaction is
   * durable. `fn` must be synchronous and must not throw for expected conditions: a throw aborts
   * the transaction (nothing is written) and rejects the promise.
   */
  write<T>(fn: (txn: WriteTxn) => T): Promise<T>;
  /**
   * A write transaction of blind puts and deletes (`null` value) in order, with the guarantees of
   * {@link write}: atomic, resolved once durable. With no reads inside, an engine may apply it
   * off the main thread (LMDB's B-tree work for a write-buffer flush took ≈ 3 ms of event loop
   * every 100 ms under load). The caller must not change `changes` before the promise settles.
   */
  writeChanges(changes: Iterable<Change>): Promise<void>;
  /** Size of the database, for Status, metrics and the quota. */
  stats(): BackendStats;
  /**
   * Writes a consistent copy of the whole database to `path` (a file that does not exist yet;
   * its directory must exist). The copy is one file in the engine's own format. Used for the
   * Maintenance Snapshot stream and for Raft snapshots.
   */
  copyTo(path: string): Promise<void>;
  /**
   * Sets the one observer told about every write transaction once it is durable (metrics). It
   * runs on the commit path: it must be cheap and must not throw. `undefined` removes it.
   */
  observeCommits(observer: ((timing: CommitTiming) => void) | undefined): void;
  /** Reclaims free space where the engine can (etcd Defragment). */
  compactFile(): Promise<void>;
  /** Flushes and closes; pending writes finish first. */
  close(): Promise<void>;
}

/** Applies `changes` inside a write transaction: how engines without a faster path do {@link Backend.writeChanges}. */
export function applyChanges(txn: WriteTxn, changes: Iterable<Change>): void {
  for (const [db, key, value] of changes) {
    if (value === null) txn.del(db, key);
    else txn.put(db, key, value);
  }
}
