/**
 * ZooKeeper's quota statistics. `setquota` (zkCli) creates `/zookeeper/quota<path>` with a
 * `zookeeper_stats` and a `zookeeper_limits` child. From then on the ZooKeeper server keeps the
 * stats node's data equal to the node count and data bytes of the subtree at `<path>` (DataTree
 * `updateQuotaForPath` when the limits node appears, `updateCountBytes` on every create, delete
 * and setData below it, recomputed from the tree on restart), in memory only: no zxid, no
 * version change, no watch. The replica keeps the same figures (quota-usage-cache.ts) and a
 * read of the stats node shows them, which is what ZooKeeper's reads show in steady state
 * (quotas are not nested: zkCli refuses a quota above or below another one). With
 * `--zk-enforce-quota` the limits node's hard limits are enforced (ops/quota-check.ts).
 */

/** The quota subtree root (ZooKeeper `Quotas.quotaZookeeper`). */
export const QUOTA_ROOT = '/zookeeper/quota';
/** Name of the node whose data ZooKeeper maintains (`Quotas.statNode`). */
export const QUOTA_STATS_NODE = 'zookeeper_stats';
/** Name of the node holding the limits (`Quotas.limitNode`). */
export const QUOTA_LIMITS_NODE = 'zookeeper_limits';

const STATS_SUFFIX = '/' + QUOTA_STATS_NODE;

/** The limits node of quota target `target` (`Quotas.limitPath`). */
export function quotaLimitsPath(target: string): string {
  return QUOTA_ROOT + target + '/' + QUOTA_LIMITS_NODE;
}

/** The stats node of quota target `target` (`Quotas.statPath`). */
export function quotaStatsPath(target: string): string {
  return QUOTA_ROOT + target + STATS_SUFFIX;
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

/** A subtree's node count and data bytes, as a stats node reports them. */
export interface QuotaUsage {
  count: number;
  bytes: number;
}

/** A stats node's text for `usage` (StatsTrack's "count=N,bytes=M"). */
export function quotaStatsText(usage: QuotaUsage): Buffer {
  return Buffer.from(`count=${usage.count},bytes=${usage.bytes}`);
}

/** The limits of a `zookeeper_limits` node; -1 where none is set. */
export interface QuotaLimits {
  count: number;
  bytes: number;
  countHardLimit: number;
  byteHardLimit: number;
}

/**
 * Parses limits as ZooKeeper's StatsTrack does: `key=value` pairs split on runs of ',' or ';',
 * an empty value meaning -1 (zkCli writes "bytes=-1=;byteHardLimit=-1;..."). A pair StatsTrack
 * could not parse is skipped: such a limit is not enforced.
 */
export function parseQuotaLimits(data: Buffer | string | null): QuotaLimits {
  const limits: QuotaLimits = { count: -1, bytes: -1, countHardLimit: -1, byteHardLimit: -1 };
  const text = typeof data === 'string' || data === null ? (data ?? '') : data.toString('utf8');
  for (const pair of text.split(/[,;]+/)) {
    const [key, value] = pair.split('=');
    if (key === undefined || !(key in limits)) continue;
    const n = value === undefined || value === '' ? -1 : Number(value);
    if (Number.isInteger(n)) limits[key as keyof QuotaLimits] = n;
  }
  return limits;
}
