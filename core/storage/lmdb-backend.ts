/**
 * The real {@link Backend}: LMDB through lmdb-js. This is the ONLY file that imports 'lmdb'.
 *
 * Durability: lmdb-js commits write transactions on its own thread and batches the ones queued
 * together (group commit). We open with `overlappingSync` off: then a commit is LMDB's own
 * synchronous durable commit (data, then meta page, fsynced on the write thread) and the
 * transaction's promise resolves only after it. With `overlappingSync` on (lmdb-js's Linux
 * default) the promise of `transaction()` resolves at commit, before the flush, and carries no
 * `flushed` promise of its own, so "resolved" would not mean "on disk"; it was also measured
 * slower here (scratch: 16 concurrent ZooKeeper setData through the in-process core, 3.5k/s with
 * it, 6.0k/s without), because the flush completes on a later turn of the main loop.
 * Readers may see a transaction that is committed but whose promise has not resolved yet; the
 * MVCC layer never exposes it, because it reads at the last revision whose write has resolved
 * (see backend.ts).
 */
import { open, RootDatabase, RootDatabaseOptions, Database } from 'lmdb';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Backend, BackendStats, Change, CommitTiming, Entry, IterateOptions, ReadTxn, WriteTxn } from './backend';
import { ALL_DBS } from './schema';

/** Options for opening LMDB. */
export interface LmdbBackendOptions {
  /** Directory that holds the database files; created if missing. */
  path: string;
  /** Skip fsync (tests only; etcd's `--unsafe-no-fsync`). */
  noSync?: boolean;
  /** Initial map size in bytes; lmdb-js grows it as needed. */
  mapSize?: number;
}

type Db = Database<Buffer, Buffer>;

/** Set while a borrowing iteration steps (see {@link RECORD_CODEC}); reads are synchronous. */
let borrowing = false;

/**
 * Values are stored as given and read into a copy from Node's Buffer pool. With `encoding:
 * 'binary'` alone lmdb-js slices each value read into an ArrayBuffer of its own (≈ 1 µs each,
 * and GC work); with a decoder it hands over its reusable read buffer (only valid until the next
 * read, its `length` set to the value's) and the copy is ours to make. At start every record of
 * the store is read once (the key index, which borrows: no copy at all) and every znode once more
 * (the ZooKeeper tree). Callers may keep what they read (backend.ts), and the record decoder
 * hands out views of this copy rather than copying again.
 */
const RECORD_CODEC = {
  encode: (value: Buffer): Buffer => value,
  decode: (reused: Uint8Array): Buffer => {
    const n = reused.length;
    if (borrowing) return Buffer.from(reused.buffer, reused.byteOffset, n);
    const out = Buffer.allocUnsafe(n);
    out.set(reused.subarray(0, n));
    return out;
  },
};

/** LMDB-backed storage. Open with {@link LmdbBackend.open}. */
export class LmdbBackend implements Backend {
  private readonly dbs = new Map<string, Db>();
  private readonly txnView: WriteTxn;
  private closed = false;
  private commitObserver: ((timing: CommitTiming) => void) | undefined;

  private constructor(
    private readonly env: RootDatabase,
    private readonly dir: string,
  ) {
    for (const name of ALL_DBS) {
      // lmdb-js takes `encoder` on every database (README), though its types list it for the root only.
      const options: RootDatabaseOptions & { name: string } = { name, keyEncoding: 'binary', encoding: 'binary', encoder: RECORD_CODEC };
      this.dbs.set(name, env.openDB<Buffer, Buffer>(options));
    }
    // One view object serves both reads and writes: lmdb-js routes db calls made inside a
    // transaction callback to that transaction, and calls made outside to the read snapshot.
    this.txnView = {
      get: (db, key) => this.db(db).get(key),
      iterate: (db, options) => iterate(this.db(db), options),
      put: (db, key, value) => {
        this.db(db).put(key, value);
      },
      del: (db, key) => {
        this.db(db).remove(key);
      },
    };
  }

  /** Opens (creating if needed) the database in `options.path`. Throws a clear error if unusable. */
  static open(options: LmdbBackendOptions): LmdbBackend {
    mkdirSync(options.path, { recursive: true });
    const env = open({
      path: options.path,
      maxDbs: 32,
      noSync: options.noSync ?? false,
      overlappingSync: false,
      mapSize: options.mapSize ?? 256 * 1024 * 1024,
      compression: false,
    });
    return new LmdbBackend(env, options.path);
  }

  read<T>(fn: (txn: ReadTxn) => T): T {
    return fn(this.txnView);
  }

  async write<T>(fn: (txn: WriteTxn) => T): Promise<T> {
    if (this.closed) throw new Error('backend is closed');
    let result!: T;
    const started = performance.now();
    let written = started;
    await this.env.transaction(() => {
      result = fn(this.txnView);
      written = performance.now();
    });
    if (this.commitObserver !== undefined) {
      // The commit (page writes and fsyncs) runs on lmdb-js's thread after our callback: the
      // time from the callback's end to the resolution is the sync.
      const done = performance.now();
      this.commitObserver({ commitSeconds: (done - started) / 1000, syncSeconds: (done - written) / 1000 });
    }
    return result;
  }

  /**
   * Queues every change as lmdb-js's asynchronous put or remove in one synchronous run: lmdb-js
   * puts all writes of one event turn in one transaction (its `eventTurnBatching`, on by default;
   * nothing here calls `transactionSync`, which could split the batch) and applies them on its
   * write thread, so the main thread only serialises them. Resolves when that transaction is
   * durable: its writes' promises resolve together, after the commit's sync.
   */
  async writeChanges(changes: Iterable<Change>): Promise<void> {
    if (this.closed) throw new Error('backend is closed');
    const started = performance.now();
    let last: Promise<boolean> | undefined;
    for (const [db, key, value] of changes) last = value === null ? this.db(db).remove(key) : this.db(db).put(key, value);
    if (last === undefined) return;
    const queued = performance.now();
    await last;
    if (this.commitObserver !== undefined) {
      // After the queueing, the time is lmdb-js's thread applying, committing and syncing.
      const done = performance.now();
      this.commitObserver({ commitSeconds: (done - started) / 1000, syncSeconds: (done - queued) / 1000 });
    }
  }

  observeCommits(observer: ((timing: CommitTiming) => void) | undefined): void {
    this.commitObserver = observer;
  }

  stats(): BackendStats {
    let sizeBytes = 0;
    try {
      sizeBytes = statSync(join(this.dir, 'data.mdb')).size;
    } catch {
      sizeBytes = 0;
    }
    const st = this.env.getStats() as TreeStats & { pageSize?: number; free?: TreeStats };
    const pageSize = st.pageSize ?? 4096;
    // In use = the pages of every tree (our sub-databases, the root that names them, the free
    // list's own tree) plus the two meta pages; freed pages inside the file do not count. LMDB
    // never shrinks its file, so this is the figure that falls after a compaction.
    let pages = 2 + treePages(st) + treePages(st.free ?? {});
    for (const db of this.dbs.values()) pages += treePages(db.getStats() as TreeStats);
    const used = pages * pageSize;
    return { sizeBytes, sizeInUseBytes: sizeBytes > 0 ? Math.min(sizeBytes, used) : used };
  }

  async copyTo(path: string): Promise<void> {
    // An environment opened on a directory copies into a directory (as `data.mdb`); the
    // contract is one file at `path`, so copy next to it and move the file into place.
    const scratch = mkdtempSync(join(dirname(path), '.copy-'));
    try {
      // Compacting copy: smaller, and like any LMDB copy consistent (one read transaction).
      await this.env.backup(scratch, true);
      renameSync(join(scratch, 'data.mdb'), path);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  async compactFile(): Promise<void> {
    // LMDB reuses freed pages in place; there is no online file shrink. Waiting for pending
    // writes keeps Defragment's contract (returns after all earlier writes are on disk).
    await this.env.flushed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }

  private db(name: string): Db {
    const db = this.dbs.get(name);
    if (!db) throw new Error(`unknown sub-database ${name}`);
    return db;
  }
}

/** Page counts of one B+tree as lmdb-js reports them. */
interface TreeStats {
  treeBranchPageCount?: number;
  treeLeafPageCount?: number;
  overflowPages?: number;
}

function treePages(s: TreeStats): number {
  return (s.treeBranchPageCount ?? 0) + (s.treeLeafPageCount ?? 0) + (s.overflowPages ?? 0);
}

function* iterate(db: Db, options: IterateOptions = {}): Iterable<Entry> {
  const { start, end, reverse, limit } = options;
  let count = 0;
  if (!reverse) {
    const range = db.getRange({ start, end });
    for (const { key, value } of options.borrow ? borrowed(range) : range) {
      if (limit !== undefined && count++ >= limit) return;
      yield { key: key as Buffer, value: value as Buffer };
    }
    return;
  }
  // lmdb-js's reverse ranges start at `start` (inclusive) going down; our contract keeps
  // `start` as the low inclusive bound and `end` as the high exclusive bound.
  const range = db.getRange({ start: end, reverse: true });
  for (const { key, value } of options.borrow ? borrowed(range) : range) {
    const k = key as Buffer;
    if (end && Buffer.compare(k, end) >= 0) continue;
    if (start && Buffer.compare(k, start) < 0) return;
    if (limit !== undefined && count++ >= limit) return;
    yield { key: k, value: value as Buffer };
  }
}

/** Steps `range` with the record decoder lending lmdb-js's read buffer instead of copying it. */
function* borrowed<T>(range: Iterable<T>): Iterable<T> {
  const it = range[Symbol.iterator]();
  let done = false;
  try {
    for (;;) {
      borrowing = true;
      let step: IteratorResult<T>;
      try {
        step = it.next();
      } finally {
        borrowing = false;
      }
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    // A consumer that stops early ends the cursor, as a for-of over the range would.
    if (!done) it.return?.();
  }
}
