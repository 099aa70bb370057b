/**
 * Runtime membership on the leader (etcd.md §4.4): MemberAdd (voter or learner), MemberRemove,
 * MemberUpdate and MemberPromote become raft conf-change entries (v1: one change at a time),
 * after etcd's safety checks with etcd's errors:
 *
 * - strict reconfig: a voter add/remove must leave a quorum of *started* members (a member is
 *   started once it published its name) → `re-configuration failed due to not enough started
 *   members`;
 * - health: the leader must have been connected to a quorum of voters (counting the new one)
 *   for the last 5 s (etcd HealthInterval) → `unhealthy cluster`;
 * - at most one learner; promotion only of a learner whose log is ≥ 90% of the leader's;
 * - peer URLs are unique; member ids are never reused.
 *
 * The same structural checks are repeated deterministically when the entry is applied
 * ({@link validateConfChange}), because two proposals can race through the log.
 */
import { CoreError } from '../util/core-error';
import { ConfChange, ConfChangeType } from '../raft/types';
import { computeMemberId } from '../cluster/member-id';
import { MemberRecord, MemberTable, decodeMemberContext, encodeMemberContext } from '../cluster/member-table';
import { checkPeerUrl, ClusterConfigError } from '../cluster/initial-cluster';

/** etcd HealthInterval: how long links must have been up for a reconfiguration to be safe. */
export const HEALTH_INTERVAL_MS = 5000;
/** etcd 3.4/3.5 allow one learner at a time. */
export const MAX_LEARNERS = 1;
/** A learner may be promoted once its match index is ≥ this fraction of the leader's. */
export const LEARNER_READY_PERCENT = 0.9;

/** What the manager needs from the member. */
export interface MembershipDeps {
  table: MemberTable;
  localId: bigint;
  clusterToken: string;
  /** Date.now() since when the link to `id` is up (0 = down). */
  activeSince(id: bigint): number;
  /** The leader's match index per member (empty when not leader). */
  progress(): Map<bigint, { match: number }>;
  /** Proposes a conf change and resolves once it is applied here (rejects with the apply error). */
  proposeConfChange(cc: ConfChange): Promise<void>;
  /** A fresh unique request id. */
  nextId(): bigint;
  nowMs(): number;
}

/** Leader-side membership operations. */
export class ClusterMembership {
  constructor(private readonly d: MembershipDeps) {}

  /** MemberAdd: returns the new member (its id is computed as etcd does, with the current time). */
  async add(peerUrls: string[], isLearner: boolean): Promise<MemberRecord> {
    checkUrls(peerUrls);
    const t = this.d.table;
    if (t.findByPeerUrls(peerUrls)) throw new CoreError('peer-url-exists');
    if (isLearner && this.learners().length >= MAX_LEARNERS) throw new CoreError('too-many-learners');
    const id = computeMemberId(peerUrls, this.d.clusterToken, Math.floor(this.d.nowMs() / 1000));
    if (t.get(id) || t.isRemoved(id)) throw new CoreError('member-exists');
    if (!isLearner) {
      const voters = this.voters();
      if (!readyToAddVoter(voters)) throw new CoreError('not-enough-started-members');
      if (!this.connectedToQuorumSince(voters.map((m) => m.id), voters.length + 1)) throw new CoreError('unhealthy-cluster');
    }
    const m: MemberRecord = { id, name: '', peerUrls: [...peerUrls], clientUrls: [], isLearner };
    await this.d.proposeConfChange(this.cc(isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, m));
    return m;
  }

  /** MemberRemove. */
  async remove(id: bigint): Promise<void> {
    const m = this.d.table.get(id);
    if (!m) throw new CoreError('member-not-found');
    if (!m.isLearner) {
      const voters = this.voters();
      const rest = voters.filter((v) => v.id !== id);
      if (startedCount(rest) < quorum(rest.length)) throw new CoreError('not-enough-started-members');
      // A member that is down is safe to remove: it is not part of the active quorum.
      const downed = id !== this.d.localId && this.d.activeSince(id) === 0;
      if (!downed && !this.connectedToQuorumSince(rest.map((v) => v.id), rest.length)) throw new CoreError('unhealthy-cluster');
    }
    await this.d.proposeConfChange(this.cc(ConfChangeType.RemoveNode, { ...m, peerUrls: [] }));
  }

  /** MemberUpdate: new peer URLs for a member. */
  async update(id: bigint, peerUrls: string[]): Promise<void> {
    checkUrls(peerUrls);
    const m = this.d.table.get(id);
    if (!m) throw new CoreError('member-not-found');
    if (this.d.table.findByPeerUrls(peerUrls, id)) throw new CoreError('peer-url-exists');
    await this.d.proposeConfChange(this.cc(ConfChangeType.UpdateNode, { ...m, peerUrls: [...peerUrls] }));
  }

  /** MemberPromote: a learner in sync with the leader becomes a voter. */
  async promote(id: bigint): Promise<void> {
    const m = this.d.table.get(id);
    if (!m) throw new CoreError('member-not-found');
    if (!m.isLearner) throw new CoreError('member-not-learner');
    const progress = this.d.progress();
    const leaderMatch = progress.get(this.d.localId)?.match ?? 0;
    const learnerMatch = progress.get(id)?.match ?? 0;
    if (learnerMatch < leaderMatch * LEARNER_READY_PERCENT) throw new CoreError('learner-not-ready');
    const voters = [...this.voters(), m];
    if (startedCount(voters) < quorum(voters.length)) throw new CoreError('not-enough-started-members');
    await this.d.proposeConfChange(this.cc(ConfChangeType.AddNode, { ...m, isLearner: false }));
  }

  private cc(type: ConfChangeType, m: MemberRecord): ConfChange {
    return { id: this.d.nextId(), type, nodeId: m.id, context: encodeMemberContext(m) };
  }

  private voters(): MemberRecord[] {
    return this.d.table.list().filter((m) => !m.isLearner);
  }

  private learners(): MemberRecord[] {
    return this.d.table.list().filter((m) => m.isLearner);
  }

  /** True when ≥ quorum(size) of `ids` have had a link up for HEALTH_INTERVAL_MS. */
  private connectedToQuorumSince(ids: bigint[], size: number): boolean {
    const since = this.d.nowMs() - HEALTH_INTERVAL_MS;
    let ok = 0;
    for (const id of ids) {
      const t = this.d.activeSince(id);
      if (t !== 0 && t <= since) ok++;
    }
    return ok >= quorum(size);
  }
}

/**
 * The deterministic check at apply time (etcd ValidateConfigurationChange). Returns the error
 * for an invalid change, which is then applied as a no-op.
 */
export function validateConfChange(table: MemberTable, cc: ConfChange): CoreError | undefined {
  const m = decodeMemberContext(cc.context);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode: {
      if (table.isRemoved(cc.nodeId)) return new CoreError('member-exists', 'ID removed');
      const existing = table.get(cc.nodeId);
      if (existing) {
        // AddNode of an existing learner is a promotion.
        if (cc.type === ConfChangeType.AddNode && existing.isLearner) return undefined;
        return new CoreError('member-exists');
      }
      if (!m) return new CoreError('not-capable', 'conf change without member');
      if (table.findByPeerUrls(m.peerUrls)) return new CoreError('peer-url-exists');
      if (cc.type === ConfChangeType.AddLearnerNode && table.list().filter((x) => x.isLearner).length >= MAX_LEARNERS) return new CoreError('too-many-learners');
      return undefined;
    }
    case ConfChangeType.RemoveNode:
      return table.get(cc.nodeId) ? undefined : new CoreError('member-not-found');
    case ConfChangeType.UpdateNode:
      if (!table.get(cc.nodeId)) return new CoreError('member-not-found');
      if (!m) return new CoreError('not-capable', 'conf change without member');
      return table.findByPeerUrls(m.peerUrls, cc.nodeId) ? new CoreError('peer-url-exists') : undefined;
  }
}

/** Quorum of n voters. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

function startedCount(ms: MemberRecord[]): number {
  return ms.filter((m) => m.name !== '').length;
}

/** etcd IsReadyToAddVotingMember: started voters must be a quorum of the grown cluster. */
function readyToAddVoter(voters: MemberRecord[]): boolean {
  const nmembers = voters.length + 1;
  const nstarted = startedCount(voters);
  // Adding a second member to a one-member cluster (restoring data) is always allowed.
  if (nstarted === 1 && nmembers === 2) return true;
  return nstarted >= quorum(nmembers);
}

function checkUrls(urls: string[]): void {
  if (urls.length === 0) throw new CoreError('invalid-member-urls');
  for (const u of urls) {
    try {
      checkPeerUrl(u);
    } catch (err) {
      if (err instanceof ClusterConfigError) throw new CoreError('invalid-member-urls');
      throw err;
    }
  }
}

/** Applies a validated conf change to the member table, inside the apply transaction. */
export function applyConfChangeToTable(table: MemberTable, txn: Parameters<MemberTable['put']>[0], cc: ConfChange): void {
  const ctx = decodeMemberContext(cc.context);
  const existing = table.get(cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode:
      if (existing) table.put(txn, { ...existing, isLearner: false });
      else if (ctx) table.put(txn, { ...ctx, id: cc.nodeId, isLearner: cc.type === ConfChangeType.AddLearnerNode });
      break;
    case ConfChangeType.RemoveNode:
      table.remove(txn, cc.nodeId);
      break;
    case ConfChangeType.UpdateNode:
      if (existing && ctx) table.put(txn, { ...existing, peerUrls: ctx.peerUrls });
      break;
  }
}
