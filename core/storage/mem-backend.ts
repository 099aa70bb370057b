/**
 * An in-memory {@link Backend} with the same contracts as LMDB's: ordered binary keys, atomic
 * write transactions, readers that see only the last completed write. It is the reference
 * implementation for unit tests and the simulator, not a test stub: it can also simulate a
 * crash that loses the writes not yet "synced" ({@link MemBackend.crash}).
 */
import { writeFileSync } from 'node:fs';
import { Backend, BackendStats, Change, CommitTiming, Entry, IterateOptions, ReadTxn, WriteTxn, applyChanges } from './backend';

type Table = Map<string, Buffer>;

/** The in-memory backend. */
export class MemBackend implements Backend {
  private tables = new Map<string, Table>();
  private sortedCache = new Map<string, string[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private commitObserver: ((timing: CommitTiming) => void) | undefined;

  read<T>(fn: (txn: ReadTxn) => T): T {
    return fn({
      get: (db, key) => this.table(db).get(key.toString('latin1')),
      iterate: (db, options) => this.iterateCommitted(db, options),
    });
  }

  writeChanges(changes: Iterable<Change>): Promise<void> {
    return this.write((txn) => applyChanges(txn, changes));
  }

  write<T>(fn: (txn: WriteTxn) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('backend is closed'));
    // Writes are applied in call order, each after the previous one completed.
    const run = this.queue.then(() => this.timedWrite(fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  stats(): BackendStats {
    let bytes = 0;
    for (const table of this.tables.values()) {
      for (const [k, v] of table) bytes += k.length + v.length + 16;
    }
    return { sizeBytes: bytes, sizeInUseBytes: bytes };
  }

  /**
   * Writes the committed state as one file: per entry, the sub-database name, key and value,
   * each as a 4-byte big-endian length and the bytes. Not an engine format: it exists so the
   * Snapshot stream can be tested without LMDB.
   */
  async copyTo(path: string): Promise<void> {
    const parts: Buffer[] = [];
    const field = (b: Buffer): void => {
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    };
    for (const name of [...this.tables.keys()].sort()) {
      const table = this.table(name);
      for (const k of this.sortedKeys(name)) {
        field(Buffer.from(name, 'latin1'));
        field(Buffer.from(k, 'latin1'));
        field(table.get(k) as Buffer);
      }
    }
    writeFileSync(path, Buffer.concat(parts), { flag: 'wx' });
  }

  observeCommits(observer: ((timing: CommitTiming) => void) | undefined): void {
    this.commitObserver = observer;
  }

  async compactFile(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }

  /** A deep copy of the durable state, for simulating a restart of the same "disk". */
  snapshotState(): MemBackend {
    const copy = new MemBackend();
    for (const [name, table] of this.tables) copy.tables.set(name, new Map(table));
    return copy;
  }

  private timedWrite<T>(fn: (txn: WriteTxn) => T): T {
    const started = performance.now();
    const result = this.runWrite(fn);
    this.commitObserver?.({ commitSeconds: (performance.now() - started) / 1000, syncSeconds: 0 });
    return result;
  }

  private runWrite<T>(fn: (txn: WriteTxn) => T): T {
    const overlay = new Map<string, Map<string, Buffer | null>>();
    const pending = (db: string) => {
      let m = overlay.get(db);
      if (!m) overlay.set(db, (m = new Map()));
      return m;
    };
    const txn: WriteTxn = {
      get: (db, key) => {
        const k = key.toString('latin1');
        const o = overlay.get(db);
        if (o && o.has(k)) return o.get(k) ?? undefined;
        return this.table(db).get(k);
      },
      iterate: (db, options) => this.iterateMerged(db, overlay.get(db), options),
      put: (db, key, value) => {
        pending(db).set(key.toString('latin1'), value);
      },
      del: (db, key) => {
        pending(db).set(key.toString('latin1'), null);
      },
    };
    const result = fn(txn);
    for (const [db, changes] of overlay) {
      const table = this.table(db);
      for (const [k, v] of changes) {
        if (v === null) table.delete(k);
        else table.set(k, v);
      }
      this.sortedCache.delete(db);
    }
    return result;
  }

  private table(db: string): Table {
    let t = this.tables.get(db);
    if (!t) this.tables.set(db, (t = new Map()));
    return t;
  }

  private sortedKeys(db: string): string[] {
    let keys = this.sortedCache.get(db);
    if (!keys) {
      keys = [...this.table(db).keys()].sort();
      this.sortedCache.set(db, keys);
    }
    return keys;
  }

  private *iterateCommitted(db: string, options: IterateOptions = {}): Iterable<Entry> {
    const table = this.table(db);
    yield* this.walk(this.sortedKeys(db), (k) => table.get(k), options);
  }

  private *iterateMerged(db: string, overlay: Map<string, Buffer | null> | undefined, options: IterateOptions = {}): Iterable<Entry> {
    if (!overlay || overlay.size === 0) {
      yield* this.iterateCommitted(db, options);
      return;
    }
    const table = this.table(db);
    const keys = new Set(this.sortedKeys(db));
    for (const k of overlay.keys()) keys.add(k);
    const lookup = (k: string) => (overlay.has(k) ? overlay.get(k) ?? undefined : table.get(k));
    yield* this.walk([...keys].sort(), lookup, options);
  }

  private *walk(keys: string[], lookup: (k: string) => Buffer | undefined, options: IterateOptions): Iterable<Entry> {
    const start = options.start?.toString('latin1');
    const end = options.end?.toString('latin1');
    const inRange = keys.filter((k) => (start === undefined || k >= start) && (end === undefined || k < end));
    if (options.reverse) inRange.reverse();
    let count = 0;
    for (const k of inRange) {
      const v = lookup(k);
      if (v === undefined) continue;
      if (options.limit !== undefined && count++ >= options.limit) return;
      yield { key: Buffer.from(k, 'latin1'), value: v };
    }
  }
}
