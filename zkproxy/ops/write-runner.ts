/**
 * `WriteRunner`: runs one write (or multi) as an optimistic transaction against the store.
 * Plan against the replica → commit with guards → on a guard failure the replica was stale:
 * wait for the change feed to reach the store's revision and plan again (bounded). A planned
 * failure (ZkError) is committed too, as a guarded put of the error key, so a failed write
 * spends a zxid exactly like ZooKeeper's error txn (zk-protocol.md §2.4) and its error is
 * confirmed against current state, not a stale replica.
 *
 * On return the change feed has applied the commit revision, so the caller's reply is written
 * after every notification of that revision (DESIGN §5).
 */
import { KvBackend } from '../backend/kv-backend';
import { ZkErr } from '../../protocol/jute';
import { ZkError } from '../errors/zk-error';
import { ZK_MAX_COMMIT_ATTEMPTS } from '../limits';
import { ZkLogger } from '../logger';
import { KeySchema } from '../mapping/key-schema';
import { ChangeFeed } from '../watch/change-feed';
import { PendingViews, TxnPlan } from './txn-plan';
import { WriteChain } from './write-chain';

/** The outcome of a write: the commit revision, and the plan's result or error code. */
export interface WriteOutcome<T> {
  zxid: number;
  /** The planned failure, committed as an error txn; absent on success. */
  error?: ZkError;
  result?: T;
}

/** Options of one write. */
export interface WriteOptions {
  /**
   * Writes with the same key run one after another on this proxy. Used for sequential creates
   * under one parent: they all read-modify-write the parent's sequence, so running them
   * concurrently only produces guard conflicts and retries.
   */
  serializeOn?: string;
  /** Commit a planned failure as an error txn (default true; the reaper says false). */
  recordFailure?: boolean;
  /**
   * The connection's write chain, to commit while its earlier writes are still in flight
   * (write-chain.ts); `mayFollow` says whether another write is already queued behind this one.
   */
  pipeline?: { chain: WriteChain; mayFollow(): boolean };
  /**
   * How the write may use the connection's data rewrites in flight (setData of a node) in a
   * pipeline, instead of waiting for them to commit:
   * - `'rewrite'`: it only rewrites one node's data (setData). It plans on top of them, since
   *   every field it reports is its own (mzxid, version, data, mtime) or one they leave as it
   *   was, and later writes may plan on top of it;
   * - `'plan'`: it depends on such a node only through its existence and version (delete), so
   *   it plans on top of them.
   */
  onRewrites?: 'rewrite' | 'plan';
}

/** Runs writes; one per proxy, shared by all connections. */
export class WriteRunner {
  /** Guard conflicts seen (for mntr). */
  conflicts = 0;

  constructor(
    private readonly backend: KvBackend,
    private readonly feed: ChangeFeed,
    private readonly keys: KeySchema,
    private readonly logger: ZkLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Plans with `fn` and commits. `fn` may throw ZkError (a failed write) and must be a pure
   * function of the plan: it can run several times.
   */
  run<T>(fn: (plan: TxnPlan) => T, opts: WriteOptions = {}): Promise<WriteOutcome<T>> {
    const key = opts.serializeOn;
    if (opts.pipeline) {
      const { chain } = opts.pipeline;
      // A serialized write runs alone: after the chain, outside it.
      if (key !== undefined) return chain.drained().then(() => this.run(fn, { ...opts, pipeline: undefined }));
      // Nothing in flight and nothing queued behind (a client waiting for each reply): no chain.
      if (chain.idle && !opts.pipeline.mayFollow()) return this.attempt(fn, opts);
      return this.chained(fn, opts, opts.pipeline);
    }
    if (key === undefined) return this.attempt(fn, opts);
    const prev = this.queues.get(key) ?? Promise.resolve();
    const mine = prev.then(() => this.attempt(fn, opts));
    const tail = mine.then(() => undefined, () => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return mine;
  }

  private readonly queues = new Map<string, Promise<void>>();

  /** Runs `fn` on a fresh plan against the replica; a ZkError it throws is the planned failure. */
  private plan<T>(fn: (plan: TxnPlan) => T, pending?: PendingViews): { plan: TxnPlan; result?: T; error?: ZkError } {
    const plan = new TxnPlan(this.feed.tree, this.keys, BigInt(this.now()), pending);
    try {
      return { plan, result: fn(plan) };
    } catch (e) {
      if (!(e instanceof ZkError)) throw e;
      return { plan, error: e };
    }
  }

  /**
   * One write through the connection's chain: planned now, committed behind the writes in
   * flight (or, when it may not link, after they drain). If its txn fails, it waits for the write
   * before it to complete and then runs alone, so the chain's order holds through retries.
   */
  private async chained<T>(fn: (plan: TxnPlan) => T, opts: WriteOptions, pipeline: NonNullable<WriteOptions['pipeline']>): Promise<WriteOutcome<T>> {
    const { chain } = pipeline;
    const pending: PendingViews | undefined = opts.onRewrites ? (nodeKey) => chain.pendingView(nodeKey) : undefined;
    for (;;) {
      const { plan, result, error } = this.plan(fn, pending);
      const views = opts.onRewrites === 'rewrite' && !error ? plan.dataRewrites() : undefined;
      const linked = chain.link(error ? plan.failureTxn() : plan.commitTxn(), pipeline.mayFollow(), { alsoReads: plan.unguardedKeys(), rebased: plan.rebasedKeys(), views });
      if (!linked) {
        await chain.drained();
        continue;
      }
      const { link } = linked;
      try {
        const res = await this.backend.txn(linked.txn);
        if (res.succeeded) {
          await this.feed.reach(res.revision);
          return error ? { zxid: res.revision, error } : { zxid: res.revision, result };
        }
        this.conflicts++;
        link.failed = true;
        await link.prev?.done;
        await this.feed.catchUp();
        return await this.attempt(fn, { ...opts, pipeline: undefined });
      } catch (e) {
        link.failed = true;
        await link.prev?.done;
        throw e;
      } finally {
        chain.complete(link);
      }
    }
  }

  private async attempt<T>(fn: (plan: TxnPlan) => T, opts: WriteOptions): Promise<WriteOutcome<T>> {
    for (let attempt = 1; attempt <= ZK_MAX_COMMIT_ATTEMPTS; attempt++) {
      const { plan, result, error } = this.plan(fn);
      if (error && opts.recordFailure === false) return { zxid: this.feed.tree.revision, error };
      const txn = error ? plan.failureTxn() : plan.commitTxn();
      const res = await this.backend.txn(txn);
      if (res.succeeded) {
        // Our txn put the last-change key, so the feed will deliver this very revision.
        await this.feed.reach(res.revision);
        return error ? { zxid: res.revision, error } : { zxid: res.revision, result };
      }
      // A lost guard race: the replica is behind the store. A failed txn's revision need not be
      // one of ours, so catch up through the last-change key before planning again.
      this.conflicts++;
      await this.feed.catchUp();
    }
    this.logger.warn({ attempts: ZK_MAX_COMMIT_ATTEMPTS }, 'write gave up after repeated conflicts');
    throw new ZkError(ZkErr.SYSTEMERROR, 'too much contention');
  }
}
