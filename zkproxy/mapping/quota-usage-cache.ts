/**
 * The node count and data bytes of each quota'd subtree, kept current as the replica changes,
 * so neither a read of a `zookeeper_stats` node nor an enforced quota check walks the subtree
 * (ZooKeeper's DataTree keeps the same figures in its stats nodes, `updateCountBytes`).
 *
 * A subtree is counted once, the first time it is asked for, and from then on moved by the
 * deltas of every node change at or below it. Nothing is cached until a quota is used, and while
 * nothing is cached a change costs one size check.
 */
import { parentOf } from './path-rules';
import { QuotaUsage } from './quota-stats';

/** What counting a subtree needs from the tree: a node's data length and children, if it exists. */
export interface QuotaTreeView {
  dataLength(path: string): number | undefined;
  childrenOf(path: string): ReadonlySet<string>;
}

/** Usage per quota target path, maintained by deltas. */
export class QuotaUsageCache {
  private readonly usage = new Map<string, QuotaUsage>();

  constructor(private readonly tree: QuotaTreeView) {}

  /** The count and bytes of the subtree at `target` (0/0 when it does not exist). */
  of(target: string): QuotaUsage {
    let u = this.usage.get(target);
    if (!u) {
      u = this.count(target);
      this.usage.set(target, u);
    }
    return u;
  }

  /**
   * Records a node change at `path`: +1/-1 nodes for a create/delete, and the change in its
   * data length. Call after the tree holds the new state.
   */
  changed(path: string, countDelta: number, bytesDelta: number): void {
    if (this.usage.size === 0) return;
    for (let p = path; ; p = parentOf(p)) {
      const u = this.usage.get(p);
      if (u) {
        u.count += countDelta;
        u.bytes += bytesDelta;
      }
      if (p === '/') return;
    }
  }

  /** Stops tracking `target` (its quota is gone). */
  forget(target: string): void {
    this.usage.delete(target);
  }

  /** Drops every figure (the tree was replaced wholesale); they are counted again when asked. */
  clear(): void {
    this.usage.clear();
  }

  private count(target: string): QuotaUsage {
    const u: QuotaUsage = { count: 0, bytes: 0 };
    // Iterative walk: a deep subtree must not exhaust the stack.
    const stack = [target];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const len = this.tree.dataLength(p);
      if (len === undefined) continue;
      u.count++;
      u.bytes += len;
      for (const c of this.tree.childrenOf(p)) stack.push(p === '/' ? '/' + c : p + '/' + c);
    }
    return u;
  }
}
