/**
 * Test doubles for the WriteBuffer tests: an inner backend whose writes can be held and
 * released (or failed) one at a time, over a MemBackend whose state after a "crash" is what its
 * completed writes left.
 */
import { Backend, BackendStats, Change, CommitTiming, ReadTxn, WriteTxn, applyChanges } from '../../../../core/storage/backend';
import { MemBackend } from '../../../../core/storage/mem-backend';

/** A MemBackend whose write transactions wait for {@link release} (when `hold` is on). */
export class GatedBackend implements Backend {
  readonly mem = new MemBackend();
  writes = 0;
  hold = true;
  private queue: Array<{ go(): void; fail(e: Error): void }> = [];

  read<T>(fn: (txn: ReadTxn) => T): T {
    return this.mem.read(fn);
  }

  write<T>(fn: (txn: WriteTxn) => T): Promise<T> {
    this.writes++;
    if (!this.hold) return this.mem.write(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ go: () => this.mem.write(fn).then(resolve, reject), fail: reject });
    });
  }

  writeChanges(changes: Iterable<Change>): Promise<void> {
    // Materialised now: the caller may reuse what it passed once this returns.
    const list = [...changes];
    return this.write((txn) => applyChanges(txn, list));
  }

  /** Inner writes waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** Lets the oldest held write run and commit. */
  release(): void {
    const w = this.queue.shift();
    if (!w) throw new Error('no held write');
    w.go();
  }

  /** Fails the oldest held write. */
  fail(): void {
    const w = this.queue.shift();
    if (!w) throw new Error('no held write');
    w.fail(new Error('EIO: lmdb commit failed'));
  }

  /** The state a restart after a crash now would find: the completed writes only. */
  crashState(): MemBackend {
    return this.mem.snapshotState();
  }

  stats(): BackendStats {
    return this.mem.stats();
  }
  copyTo(path: string): Promise<void> {
    return this.mem.copyTo(path);
  }
  observeCommits(observer: ((timing: CommitTiming) => void) | undefined): void {
    this.mem.observeCommits(observer);
  }
  compactFile(): Promise<void> {
    return this.mem.compactFile();
  }
  close(): Promise<void> {
    return this.mem.close();
  }
}

/** Every (db, key, value) of a backend's committed state over `dbs`, as printable strings. */
export function dump(backend: Pick<Backend, 'read'>, dbs: readonly string[]): string[] {
  return backend.read((txn) => {
    const out: string[] = [];
    for (const db of dbs) for (const { key, value } of txn.iterate(db)) out.push(`${db}:${key.toString('latin1')}=${value.toString('latin1')}`);
    return out;
  });
}

/** Lets microtasks and I/O callbacks run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
