/**
 * ZooKeeper's quota statistics. `setquota` (zkCli) creates `/zookeeper/quota<path>` with a
 * `zookeeper_stats` and a `zookeeper_limits` child. From then on the ZooKeeper server keeps the
 * stats node's data equal to the node count and data bytes of the subtree at `<path>` (DataTree
 * `updateQuotaForPath` when the limits node appears, `updateCountBytes` on every create, delete
 * and setData below it, recomputed from the tree on restart), in memory only: no zxid, no
 * version change, no watch. We compute the same text from the replica when the node is read,
 * which is what ZooKeeper's reads show in steady state (quotas are not nested: zkCli refuses a
 * quota above or below another one).
 */

/** The quota subtree root (ZooKeeper `Quotas.quotaZookeeper`). */
export const QUOTA_ROOT = '/zookeeper/quota';
/** Name of the node whose data ZooKeeper maintains (`Quotas.statNode`). */
export const QUOTA_STATS_NODE = 'zookeeper_stats';
/** Name of the node holding the limits (`Quotas.limitNode`). */
export const QUOTA_LIMITS_NODE = 'zookeeper_limits';

const STATS_SUFFIX = '/' + QUOTA_STATS_NODE;

/** What the computation needs from the tree: a node's data length and children, if it exists. */
export interface QuotaTreeView {
  dataLength(path: string): number | undefined;
  childrenOf(path: string): ReadonlySet<string>;
}

/**
 * The quota'd path whose statistics `path` holds, or undefined when `path` is not a stats node.
 * Cheap: called on every node view.
 */
export function quotaTargetOf(path: string): string | undefined {
  if (!path.endsWith(STATS_SUFFIX) || !path.startsWith(QUOTA_ROOT + '/')) return undefined;
  const target = path.slice(QUOTA_ROOT.length, path.length - STATS_SUFFIX.length);
  return target === '' ? undefined : target;
}

/**
 * The data ZooKeeper would hold in the stats node `statsPath` ("count=N,bytes=M", StatsTrack's
 * text), or undefined when `statsPath` is not a stats node.
 */
export function quotaStatsData(tree: QuotaTreeView, statsPath: string): Buffer | undefined {
  const target = quotaTargetOf(statsPath);
  if (target === undefined) return undefined;
  let count = 0;
  let bytes = 0;
  // Iterative walk: a deep subtree must not exhaust the stack.
  const stack = [target];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const len = tree.dataLength(p);
    if (len === undefined) continue;
    count++;
    bytes += len;
    for (const c of tree.childrenOf(p)) stack.push(p === '/' ? '/' + c : p + '/' + c);
  }
  return Buffer.from(`count=${count},bytes=${bytes}`);
}
