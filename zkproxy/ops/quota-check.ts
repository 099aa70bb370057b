/**
 * ZooKeeper's enforced quotas (`zookeeper.enforceQuota=true`, `ZooKeeperServer.checkQuota`): a
 * create or setData that would take the deepest quota'd subtree holding its path past a hard
 * limit (`setquota -N` / `-B`) fails with QUOTAEXCEEDED. Soft limits (`-n` / `-b`) are only
 * ever logged by ZooKeeper; they are not checked here.
 *
 * As in ZooKeeper, the limits and the usage are read from the committed tree (our replica), not
 * from the writes in flight or the earlier ops of the same multi, so writes racing each other
 * may together pass a limit by as many as are in flight.
 */
import { ZkErr } from '../../protocol/jute';
import { fail } from '../errors/zk-error';
import { parentOf } from '../mapping/path-rules';
import { ZnodeTree } from '../mapping/znode-tree';
import { parseQuotaLimits, quotaLimitsPath, quotaStatsPath } from '../mapping/quota-stats';

/** Checks writes against the quotas of one replica. */
export class QuotaCheck {
  constructor(private readonly tree: ZnodeTree) {}

  /** A create of `path` with `dataBytes` of data: one node and its bytes more. */
  create(path: string, dataBytes: number): void {
    this.check(path, 1, dataBytes);
  }

  /** A setData of `path` from `oldBytes` to `newBytes` of data. */
  setData(path: string, oldBytes: number, newBytes: number): void {
    this.check(path, 0, newBytes - oldBytes);
  }

  /**
   * The deepest path at or above `path` with a limits node (`DataTree.getMaxPrefixWithQuota`;
   * never the root, which ZooKeeper does not keep a quota on).
   */
  private quotaRoot(path: string): string | undefined {
    for (let p = path; p !== '/'; p = parentOf(p)) {
      if (this.tree.has(quotaLimitsPath(p))) return p;
    }
    return undefined;
  }

  private check(path: string, countDiff: number, bytesDiff: number): void {
    const root = this.quotaRoot(path);
    if (root === undefined) return;
    const limits = parseQuotaLimits(this.tree.view(quotaLimitsPath(root))?.data ?? null);
    const countHard = countDiff !== 0 && limits.countHardLimit > -1;
    const bytesHard = bytesDiff !== 0 && limits.byteHardLimit > -1;
    // ZooKeeper checks nothing when the stats node is missing ("should not happen").
    if ((!countHard && !bytesHard) || !this.tree.has(quotaStatsPath(root))) return;
    const usage = this.tree.usageOf(root);
    if (countHard && usage.count + countDiff > limits.countHardLimit) fail(ZkErr.QUOTAEXCEEDED, root);
    if (bytesHard && usage.bytes + bytesDiff > limits.byteHardLimit) fail(ZkErr.QUOTAEXCEEDED, root);
  }
}
