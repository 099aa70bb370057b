/**
 * `WriteChain`: one connection's writes in flight at once, applied in the order the client sent
 * them. A pipelining client (Kafka's controller, any async API) sends many writes before the
 * first reply; run one at a time, each waits a whole commit, and one session gets a few
 * thousand writes a second where ZooKeeper gives it ten times more.
 *
 * Each write is still planned and guarded as usual, so a guard catches any write in between
 * and the write is planned again; what the guards do not give is order: if write N failed its
 * guard and were retried, write N+1, already committed, would have overtaken it. So a chained
 * write also carries a token: it puts the session's chain key (`<prefix>q/<session>`, on the
 * session's lease) to a value of its own, and the write after it commits only if that key still
 * holds it. A failed link therefore fails every link after it, and each is retried, in order,
 * once the one before it has completed.
 *
 * A write links only behind a healthy chain (no link failed), and only if no compare of its own
 * reads a key that a write in flight changes (planned on the replica, that compare would fail
 * for sure: it waits instead); otherwise it waits for the chain to drain and runs alone. The
 * exception is a data rewrite or a delete of a node a data rewrite in flight leaves behind: the
 * chain keeps that node as it will be ({@link WriteChain.pendingView}), the later write is
 * planned on it (TxnPlan's pending views) and links at once. Tokens are random per chain plus a counter,
 * so a value left by an earlier connection of the session never matches.
 */
import { randomBytes } from 'node:crypto';
import { KvCompare, KvTxn } from '../backend/kv-backend';
import { NodeView } from '../mapping/znode-view';

/** One write in the chain. */
export interface ChainLink {
  /** The value this write puts in the chain key; undefined: it does not put one (nothing may follow). */
  readonly token: string | undefined;
  /** Keys this write changes (latin1), so later writes reading them wait instead of failing. */
  keys(): ReadonlySet<string>;
  /** Set when its txn failed: nothing links behind the chain until it drains. */
  failed: boolean;
  /** Resolves when the write is complete (committed, retried, or given up). */
  readonly done: Promise<void>;
  resolveDone(): void;
  /** The link before it, when it linked behind one. */
  readonly prev: ChainLink | undefined;
  /** Nodes it only rewrites the data of, as it leaves them, by node key (TxnPlan.dataRewrites). */
  readonly views: ReadonlyMap<string, NodeView> | undefined;
}

/** What a write's txn depends on and leaves, beyond its compares (see {@link WriteChain.link}). */
export interface LinkDeps {
  /** Keys its result depends on beyond its compares (TxnPlan.unguardedKeys). */
  alsoReads?: readonly Buffer[];
  /** Node keys (latin1) whose compares were planned on the chain's views (TxnPlan.rebasedKeys). */
  rebased?: ReadonlySet<string>;
  /** Nodes it leaves for later writes to plan on (TxnPlan.dataRewrites). */
  views?: ReadonlyMap<string, NodeView>;
}

/** A connection's write chain. */
export class WriteChain {
  private readonly base = randomBytes(6).toString('hex');
  private counter = 0;
  private readonly links: ChainLink[] = [];
  private idleWaiters: (() => void)[] = [];
  /** How many writes have linked so far (the connection checks that a write linked at once). */
  linksMade = 0;

  /**
   * @param key the session's chain key
   * @param lease the session's lease (the key goes with the session)
   */
  constructor(
    private readonly key: Buffer,
    private readonly lease: bigint,
  ) {}

  /** Whether no write of this chain is in flight. */
  get idle(): boolean {
    return this.links.length === 0;
  }

  /** Resolves once no write is in flight. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * A node as the writes in flight leave it, by node key (latin1): the view of the last write
   * that changes the key, when that write only rewrites the node's data; otherwise undefined
   * (also when no write in flight changes it).
   */
  pendingView(nodeKey: string): NodeView | undefined {
    for (let i = this.links.length - 1; i >= 0; i--) {
      const l = this.links[i]!;
      if (l.keys().has(nodeKey)) return l.failed ? undefined : l.views?.get(nodeKey);
    }
    return undefined;
  }

  /**
   * Adds `txn` to the chain: returns the txn to commit (with the chain's compare and put) and
   * its link, or undefined when it must wait for the chain to drain. `mayFollow`: another
   * write may come behind it (only then does a write that starts a chain put a token). A
   * compare on a key that a write in flight changes makes it wait, unless the compare was
   * planned on that write's view (`deps.rebased`).
   */
  link(txn: KvTxn, mayFollow: boolean, deps: LinkDeps = {}): { txn: KvTxn; link: ChainLink } | undefined {
    const prev = this.links[this.links.length - 1];
    if (prev && (prev.token === undefined || this.links.some((l) => l.failed) || this.reads(txn.compare.map((c) => c.key), deps.rebased) || this.reads(deps.alsoReads ?? []))) return undefined;
    const token = prev || mayFollow ? `${this.base}:${++this.counter}` : undefined;
    const compare: KvCompare[] = prev ? [...txn.compare, { key: this.key, target: 'value', result: 'equal', value: Buffer.from(prev.token!) }] : txn.compare;
    const put = token === undefined ? [] : [{ type: 'put' as const, key: this.key, value: Buffer.from(token), lease: this.lease }];
    // Never in the failure branch: a txn whose guards failed must fail the links behind it.
    const chained: KvTxn = { compare, success: [...txn.success, ...put], failure: txn.failure };
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    let keys: Set<string> | undefined;
    const link: ChainLink = {
      token, failed: false, done, resolveDone, prev, views: deps.views,
      // Built when a later write first asks: a lone write never needs it.
      keys: () => (keys ??= new Set(txn.success.flatMap((op) => (op.type === 'put' || op.type === 'delete' ? [op.key.toString('latin1')] : [])))),
    };
    this.links.push(link);
    this.linksMade++;
    return { txn: chained, link };
  }

  /** Marks `link` complete: it leaves the chain, and waiters for an idle chain run when it is empty. */
  complete(link: ChainLink): void {
    const i = this.links.indexOf(link);
    if (i >= 0) this.links.splice(i, 1);
    link.resolveDone();
    if (this.links.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private reads(keys: readonly Buffer[], except?: ReadonlySet<string>): boolean {
    for (const key of keys) {
      const k = key.toString('latin1');
      if (except?.has(k)) continue;
      for (const l of this.links) if (l.keys().has(k)) return true;
    }
    return false;
  }
}
