/**
 * `SequenceChains`: the sequential creates in flight under each parent on this proxy.
 *
 * Every sequential create under a parent reads the parent's create counter, so run one after
 * another each waits a whole commit: a queue or lock recipe with many clients gets about one
 * create per fsync, where ZooKeeper, which numbers them in its request pipeline, gets many. Here
 * a sequential create is planned on the parent as the creates in flight under it will leave it
 * (TxnPlan's {@link PendingParent}) and committed at once behind them. Its guards make it
 * commit only right after the create before it (that create's child exists, and the parent's
 * child-change key has exactly the version they leave), so any other child change in between,
 * or a failed create ahead, fails it, and it is planned again on the replica once the create
 * before it is complete. A create links only behind a healthy chain (no link failed); otherwise
 * it waits for the chain's last link and tries again. A pipelining connection's sequential
 * create is also a link of that connection's write chain (write-chain.ts, WriteRunner's
 * `chainedSequence`), so one connection's creates under a parent overlap as well.
 */
import { PendingParent } from './txn-plan';

/** One sequential create in flight. */
export interface SequenceLink {
  /** The parent as this create leaves it. */
  readonly after: PendingParent;
  /** Set when its txn failed: nothing links behind it until the chain drains. */
  failed: boolean;
  /** The link before it, when there was one. */
  readonly prev: SequenceLink | undefined;
  /** Resolves once this create is complete (committed, retried, or given up). */
  readonly done: Promise<void>;
}

interface LinkState extends SequenceLink {
  resolveDone(): void;
}

/** The chains of one proxy, by parent path. */
export class SequenceChains {
  private readonly chains = new Map<string, LinkState[]>();

  /**
   * The chain under `parent` as a new create finds it: the parent as the last create in flight
   * leaves it (`after`, to plan on), when that last create completes (`last`), and whether a
   * link failed (`broken`: wait for `last` before planning). Empty when nothing is in flight.
   */
  tail(parent: string): { after?: PendingParent; last?: Promise<void>; broken?: boolean } {
    const links = this.chains.get(parent);
    if (!links || links.length === 0) return {};
    const last = links[links.length - 1]!;
    return { after: last.after, last: last.done, broken: links.some((l) => l.failed) };
  }

  /** Adds a create planned on {@link tail}'s `after` (or on the replica when it had none). */
  link(parent: string, after: PendingParent): SequenceLink {
    let links = this.chains.get(parent);
    if (!links) this.chains.set(parent, (links = []));
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const link: LinkState = { after, failed: false, prev: links[links.length - 1], done, resolveDone };
    links.push(link);
    return link;
  }

  /** Marks `link` complete: it leaves its chain, and whoever waits for it goes on. */
  complete(parent: string, link: SequenceLink): void {
    const links = this.chains.get(parent);
    const i = links ? links.indexOf(link as LinkState) : -1;
    if (i >= 0) links!.splice(i, 1);
    if (links && links.length === 0) this.chains.delete(parent);
    (link as LinkState).resolveDone();
  }
}
