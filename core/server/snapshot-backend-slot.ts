/**
 * The backend under the member's write buffer, replaceable while the member runs: installing a
 * Raft snapshot swaps the whole LMDB database for the one received from the leader
 * (snapshot-installer.ts), and every holder of the member's backend (the write buffer, and
 * through it the MVCC store, the lessor, the gRPC services) must see the new one without being
 * rebuilt. A swap is one synchronous assignment: a read never falls between two databases, and
 * the caller swaps only when no write is in flight (the write buffer flushed, applying stopped).
 */
import { Backend, BackendStats, Change, CommitTiming, ReadTxn, WriteTxn } from '../storage/backend';

/** A {@link Backend} that delegates to a replaceable inner backend. */
export class SnapshotBackendSlot implements Backend {
  private observer: ((timing: CommitTiming) => void) | undefined;

  constructor(private current: Backend) {}

  /** The backend in use. */
  get inner(): Backend {
    return this.current;
  }

  /**
   * Puts `next` in place and returns the previous backend, which the caller closes. The caller
   * guarantees that no write on the previous backend is pending.
   */
  swap(next: Backend): Backend {
    const old = this.current;
    old.observeCommits(undefined);
    next.observeCommits(this.observer);
    this.current = next;
    return old;
  }

  read<T>(fn: (txn: ReadTxn) => T): T {
    return this.current.read(fn);
  }

  writeChanges(changes: Iterable<Change>): Promise<void> {
    return this.current.writeChanges(changes);
  }

  write<T>(fn: (txn: WriteTxn) => T): Promise<T> {
    return this.current.write(fn);
  }

  stats(): BackendStats {
    return this.current.stats();
  }

  copyTo(path: string): Promise<void> {
    return this.current.copyTo(path);
  }

  observeCommits(observer: ((timing: CommitTiming) => void) | undefined): void {
    this.observer = observer;
    this.current.observeCommits(observer);
  }

  compactFile(): Promise<void> {
    return this.current.compactFile();
  }

  close(): Promise<void> {
    return this.current.close();
  }
}
