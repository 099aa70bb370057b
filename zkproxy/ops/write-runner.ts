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
import { KvBackend, KvTxn } from '../backend/kv-backend';
import { ZkErr } from '../../protocol/jute';
import { ZkError } from '../errors/zk-error';
import { ZK_MAX_COMMIT_ATTEMPTS } from '../limits';
import { ZkLogger } from '../logger';
import { KeySchema } from '../mapping/key-schema';
import { ChangeFeed } from '../watch/change-feed';
import { PendingParent, PendingViews, TxnPlan } from './txn-plan';
import { SequenceChains } from './sequence-chains';
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
   * The parent of a sequential create: creates under one parent are planned on the ones in
   * flight before them and committed behind them (sequence-chains.ts), since run concurrently on
   * the replica they would all read the same counter and all but one fail their guards.
   */
  sequenceUnder?: string;
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
    const parent = opts.sequenceUnder;
    if (opts.pipeline) {
      const { chain } = opts.pipeline;
      // Nothing in flight and nothing queued behind (a client waiting for each reply): no chain.
      if (chain.idle && !opts.pipeline.mayFollow()) return parent === undefined ? this.attempt(fn, opts) : this.sequenced(fn, opts, parent);
      if (parent !== undefined) return this.chainedSequence(fn, opts, opts.pipeline, parent);
      return this.chained(fn, opts, opts.pipeline);
    }
    if (parent === undefined) return this.attempt(fn, opts);
    return this.sequenced(fn, opts, parent);
  }

  private readonly sequences = new SequenceChains();

  /** Runs `fn` on a fresh plan against the replica; a ZkError it throws is the planned failure. */
  private plan<T>(fn: (plan: TxnPlan) => T, pending?: PendingViews, pendingParent?: PendingParent): { plan: TxnPlan; result?: T; error?: ZkError } {
    const plan = new TxnPlan(this.feed.tree, this.keys, BigInt(this.now()), pending, pendingParent);
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
      return this.commitLinked(linked.txn, { result, error }, [link], () => chain.complete(link), () => this.attempt(fn, { ...opts, pipeline: undefined }));
    }
  }

  /**
   * A sequential create under `parent` (sequence-chains.ts): planned on the creates in flight
   * under it and committed behind them (over a store that does not order txns, after them). A
   * planned failure, or a plan that is not one child created, waits for the chain to drain and
   * runs alone; a failed guard waits for the create before it to complete, then runs alone on
   * the caught-up replica.
   */
  private async sequenced<T>(fn: (plan: TxnPlan) => T, opts: WriteOptions, parent: string): Promise<WriteOutcome<T>> {
    for (;;) {
      const tail = this.sequences.tail(parent);
      // Behind a failed create, or over a store that may apply concurrent txns out of order
      // (etcd): one at a time.
      if (tail.broken || (tail.last && !this.backend.ordersTxns)) {
        await tail.last;
        continue;
      }
      const { plan, result, error } = this.plan(fn, undefined, tail.after);
      const after = error ? undefined : plan.parentAfter(parent);
      if (!after) {
        if (!tail.last) return this.attempt(fn, opts);
        await tail.last;
        continue;
      }
      const link = this.sequences.link(parent, after);
      return this.commitLinked(plan.commitTxn(), { result }, [link], () => this.sequences.complete(parent, link), () => this.attempt(fn, opts));
    }
  }

  /**
   * A sequential create of a pipelining connection: in both chains at once. It is planned on the
   * parent as the creates in flight under it leave it and linked behind them (sequence-chains.ts),
   * and it carries the connection's chain token (write-chain.ts), so it commits right after the
   * connection's write before it and right after the parent's create before it. Its compares on
   * the pending parent are planned on the creates in flight (TxnPlan.rebasedKeys), so the
   * connection's own creates in flight under the parent do not hold it back. If its txn fails,
   * it waits for both links before it and runs alone, so both orders hold through the retry. A
   * planned failure, or a plan that is not one child created, waits for the connection's chain
   * to drain and runs as a lone sequential create.
   */
  private async chainedSequence<T>(fn: (plan: TxnPlan) => T, opts: WriteOptions, pipeline: NonNullable<WriteOptions['pipeline']>, parent: string): Promise<WriteOutcome<T>> {
    const { chain } = pipeline;
    const alone = { ...opts, pipeline: undefined };
    for (;;) {
      const tail = this.sequences.tail(parent);
      if (tail.broken) {
        await tail.last;
        continue;
      }
      const { plan, result, error } = this.plan(fn, undefined, tail.after);
      const after = error ? undefined : plan.parentAfter(parent);
      if (!after) {
        await chain.drained();
        return this.sequenced(fn, alone, parent);
      }
      const linked = chain.link(plan.commitTxn(), pipeline.mayFollow(), { alsoReads: plan.unguardedKeys(), rebased: plan.rebasedKeys() });
      if (!linked) {
        await chain.drained();
        continue;
      }
      const { link } = linked;
      const seq = this.sequences.link(parent, after);
      const complete = (): void => {
        this.sequences.complete(parent, seq);
        chain.complete(link);
      };
      return this.commitLinked(linked.txn, { result }, [link, seq], complete, () => this.attempt(fn, alone));
    }
  }

  /**
   * Commits the txn of a write linked into one or more chains (`links`). On success the reply
   * waits for the change feed to reach it. If its guards fail, or the call throws, every link is
   * marked failed (so nothing links behind them) and the write waits for the links before them,
   * so that no retry overtakes them; after a guard failure it then runs alone (`alone`) on the
   * caught-up replica. `complete` releases the links, last, whatever happened.
   */
  private async commitLinked<T>(
    txn: KvTxn,
    planned: { result?: T; error?: ZkError },
    links: readonly { failed: boolean; readonly prev: { readonly done: Promise<void> } | undefined }[],
    complete: () => void,
    alone: () => Promise<WriteOutcome<T>>,
  ): Promise<WriteOutcome<T>> {
    const failed = async (): Promise<void> => {
      for (const l of links) l.failed = true;
      await Promise.all(links.map((l) => l.prev?.done));
    };
    try {
      const res = await this.backend.txn(txn);
      if (res.succeeded) {
        await this.feed.reach(res.revision);
        return planned.error ? { zxid: res.revision, error: planned.error } : { zxid: res.revision, result: planned.result };
      }
      this.conflicts++;
      await failed();
      await this.feed.catchUp();
      return await alone();
    } catch (e) {
      await failed();
      throw e;
    } finally {
      complete();
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
