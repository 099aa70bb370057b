/**
 * The MVCC key-value store: the key index, the revision counters, and reads at a revision.
 *
 * Two revisions matter (DESIGN §1, backend.ts):
 * - `currentRevision`: the newest revision applied (the write view). Write transactions build on it.
 * - `readRevision`: the newest revision whose backend transaction is durable. Every read is
 *   served at or below it, so a reader never sees a write that a crash could still undo.
 * A fresh store is at revision 1 (etcd.md §2.1); the first write is revision 2.
 */
import { Backend, ReadTxn, WriteTxn } from '../storage/backend';
import { DB, decodeIndex, decodeRevisionMain, decodeRevisionSub, META } from '../storage/schema';
import { assert, assertFailed } from '../util/assert';
import { CoreError } from '../util/core-error';
import { decodeRecordHead } from './key-value';
import { KeyIndex } from './key-index';
import { RangeRequest, RangeResult } from './kv-types';
import { readRange } from './range-reader';
import { KvWriteTxn, LeaseAttacher } from './kv-write-txn';
import { TxnView } from './txn-runner';

/** Records between two progress reports of {@link KvStore.load}. */
export const LOAD_PROGRESS_RECORDS = 500_000;

/** Lease attachments found while rebuilding the index at start. */
export interface LoadedAttachment {
  lease: bigint;
  key: string;
}

/** The store. */
export class KvStore {
  readonly index = new KeyIndex();
  private current = 1;
  private readable = 1;
  /** Main revision of the last compaction; reads below it fail. 0 = never compacted. */
  private compacted = 0;
  /** Highest compaction applied (possibly not yet durable or finished); new ones must exceed it. */
  private scheduled = 0;

  constructor(readonly backend: Backend) {}

  /** Newest applied revision. */
  get currentRevision(): number {
    return this.current;
  }

  /** Newest durable revision; reads are served here. */
  get readRevision(): number {
    return this.readable;
  }

  /** Revision of the last compaction (0 if none). */
  get compactRevision(): number {
    return this.compacted;
  }

  /**
   * Rebuilds the index from the backend, replacing what it held (at start, and after a Raft
   * snapshot replaced the backend's contents). Returns the live keys' lease attachments so the
   * lessor can rebuild its key sets. Finishes a compaction that a crash interrupted (etcd #17780).
   * `progress` hears the count of records read every `every` records (a large store takes
   * seconds, and a start must show it is working).
   */
  load(progress?: (records: number) => void, every = LOAD_PROGRESS_RECORDS): { attachments: LoadedAttachment[]; pendingCompaction: number } {
    this.index.clear();
    return this.backend.read((txn) => {
      const attachments = new Map<string, bigint>();
      let records = 0;
      for (const { key, value } of txn.iterate(DB.kv, { borrow: true })) {
        if (++records % every === 0) progress?.(records);
        const main = decodeRevisionMain(key);
        const sub = decodeRevisionSub(key);
        const rec = decodeRecordHead(value);
        const k = rec.key;
        if (rec.tombstone) {
          const h = this.index.history(k);
          // A partially compacted history can start with a tombstone; skip it.
          if (h && h.live) this.index.tombstone(k, main, sub);
          attachments.delete(k);
        } else {
          this.index.put(k, main, sub, rec.createRevision, rec.version, rec.lease);
          if (rec.lease !== 0n) attachments.set(k, rec.lease);
          else if (attachments.size > 0) attachments.delete(k);
        }
      }
      const cur = txn.get(DB.meta, META.currentRevision);
      this.current = cur ? decodeIndex(cur) : 1;
      this.readable = this.current;
      const finished = readNumber(txn, META.finishedCompactRevision);
      const scheduled = readNumber(txn, META.scheduledCompactRevision);
      this.compacted = scheduled;
      this.scheduled = scheduled;
      if (scheduled > 0) this.index.compact(scheduled);
      return {
        attachments: [...attachments].map(([key, lease]) => ({ key, lease })),
        pendingCompaction: scheduled > finished ? scheduled : 0,
      };
    });
  }

  /** Resolves a requested read revision (0 = now) against compaction and the future. */
  resolveReadRevision(revision: number): number {
    if (revision <= 0) return this.readable;
    if (revision > this.readable) throw new CoreError('future-revision');
    if (revision < this.compacted) throw new CoreError('compacted');
    return revision;
  }

  /** A range read at the requested revision; throws compacted / future-revision. */
  range(req: RangeRequest): RangeResult {
    const at = this.resolveReadRevision(req.revision);
    return this.backend.read((txn) => readRange(this.index, txn, req, at));
  }

  /** A read-only view at the readable revision, for read-only txns (no log round). */
  readView(): TxnView {
    const at = this.readable;
    return {
      range: (req) => this.range(req),
      checkRange: (req) => void this.resolveReadRevision(req.revision),
      revision: () => at,
    };
  }

  /** Starts a write transaction inside the applier's backend transaction. */
  beginWrite(txn: WriteTxn, leases: LeaseAttacher): KvWriteTxn {
    // A compaction counts from the moment it applies (as etcd's compactMainRev), not from when
    // its index work is done: the next entry of the same batch must not read below it either.
    return new KvWriteTxn(this.index, txn, leases, this.current + 1, Math.max(this.compacted, this.scheduled));
  }

  /** Ends a write transaction; returns the store revision after it. */
  endWrite(w: KvWriteTxn): number {
    const rev = w.finish();
    assert(rev >= this.current, 'revision went backwards');
    this.current = rev;
    return rev;
  }

  /** Called once the backend transaction holding revisions ≤ `rev` is durable. */
  markDurable(rev: number): void {
    if (rev > this.current) assertFailed(`durable ${rev} beyond applied ${this.current}`);
    if (rev > this.readable) this.readable = rev;
  }

  /**
   * Validates a compaction request at apply time (etcd.md §2.5): at or below the last compaction →
   * compacted; beyond the current revision → future-revision.
   */
  checkCompact(rev: number): void {
    if (rev <= Math.max(this.compacted, this.scheduled)) throw new CoreError('compacted');
    if (rev > this.current) throw new CoreError('future-revision');
  }

  /** Records a scheduled compaction in the applier's transaction (first step; crash-safe). */
  scheduleCompact(txn: WriteTxn, rev: number): void {
    txn.put(DB.meta, META.scheduledCompactRevision, encodeNumber(rev));
    this.scheduled = rev;
  }

  /**
   * Compacts the index at `rev` once the schedule record is durable; returns the revision keys
   * whose records the caller deletes in later batches. Reads below `rev` fail from now on.
   */
  compactIndex(rev: number): Array<{ main: number; sub: number }> {
    assert(rev <= this.readable, 'index compaction beyond the durable revision');
    this.compacted = Math.max(this.compacted, rev);
    return this.index.compact(rev);
  }
}

function readNumber(txn: ReadTxn, key: Buffer): number {
  const v = txn.get(DB.meta, key);
  return v ? decodeIndex(v) : 0;
}

function encodeNumber(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUIntBE(0, 0, 2);
  b.writeUIntBE(n, 2, 6);
  return b;
}
