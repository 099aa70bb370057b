/**
 * Finishes compactions after their schedule record is durable (etcd.md §2.5, #17780): compacts
 * the key index, cancels watchers left behind, deletes the dropped revisions' records in bounded
 * batches, then records the finished revision. A crash anywhere in between is repaired at start
 * (the scheduled revision is ahead of the finished one, and the work is idempotent).
 */
import { Backend } from '../storage/backend';
import { DB, META, encodeRevisionKey, encodeIndex } from '../storage/schema';
import { Logger } from '../util/logger';
import { KvStore } from '../mvcc/kv-store';
import { WatchableStore } from '../mvcc/watchable-store';

/** Runs compactions one after another. */
export class Compactor {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly kv: KvStore,
    private readonly watches: WatchableStore,
    private readonly backend: Backend,
    private readonly batchLimit: number,
    private readonly logger: Logger,
  ) {}

  /** Finishes the compaction at `rev`; resolves when its records are physically gone. */
  finish(rev: number): Promise<void> {
    const run = this.chain.then(() => this.run(rev));
    this.chain = run.catch((err) => this.logger.error({ err, rev }, 'compaction failed'));
    return run;
  }

  /** Resolves when no compaction is running. */
  idle(): Promise<void> {
    return this.chain;
  }

  private async run(rev: number): Promise<void> {
    const dropped = this.kv.compactIndex(rev);
    this.watches.compacted();
    for (let i = 0; i < dropped.length; i += this.batchLimit) {
      const batch = dropped.slice(i, i + this.batchLimit);
      await this.backend.write((txn) => {
        for (const r of batch) txn.del(DB.kv, encodeRevisionKey(r.main, r.sub));
      });
    }
    await this.backend.write((txn) => txn.put(DB.meta, META.finishedCompactRevision, encodeIndex(rev)));
    this.logger.info({ rev, deleted: dropped.length }, 'finished compaction');
  }
}
