/**
 * The leader's view of one follower's log (etcd-io/raft `tracker/progress.go`, `design.md`).
 *
 * - Probe: the leader does not know where the follower's log matches; it sends at most one
 *   MsgApp per heartbeat interval and backs off on rejection (rejectHint).
 * - Replicate: the match point is known; the leader pipelines MsgApps optimistically, bounded by
 *   {@link Inflights}.
 * - Snapshot: the follower needs a snapshot; nothing else is sent until it is reported done.
 *
 * Invariant: match < next.
 */
import { assert } from '../../util/assert';
import { Inflights } from './inflights';

/** The replication state of one follower. Numbers as etcd-io/raft's StateType. */
export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

/** Display names, as etcd prints them. */
export const PROGRESS_STATE_NAMES: Record<ProgressState, string> = {
  [ProgressState.Probe]: 'StateProbe',
  [ProgressState.Replicate]: 'StateReplicate',
  [ProgressState.Snapshot]: 'StateSnapshot',
};

/** Replication progress of one peer, as tracked by the leader (and reset on every term). */
export class Progress {
  /** Highest index known to be replicated on the peer. */
  match: number;
  /** Next index to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from the peer within the current election timeout (CheckQuorum). */
  recentActive = false;
  /**
   * Sending new entries is paused: in Probe, one append is outstanding; in Replicate, the
   * inflights ring is full. Cleared by an acknowledgement or a heartbeat response.
   */
  msgAppFlowPaused = false;
  inflights: Inflights;
  isLearner: boolean;
  /** The highest commit index sent to the peer (in an append or heartbeat) this term. */
  sentCommit = 0;

  constructor(init: { match: number; next: number; inflights: Inflights; isLearner: boolean; recentActive?: boolean }) {
    assert(init.match < init.next, `progress match ${init.match} must be < next ${init.next}`);
    this.match = init.match;
    this.next = init.next;
    this.inflights = init.inflights;
    this.isLearner = init.isLearner;
    this.recentActive = init.recentActive ?? false;
  }

  /** A shallow copy that shares nothing mutable except the inflights ring (as etcd does). */
  clone(): Progress {
    const p = new Progress({ match: this.match, next: this.next, inflights: this.inflights, isLearner: this.isLearner });
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    p.sentCommit = this.sentCommit;
    return p;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Back to probing: after a rejection in Replicate, an unreachable report, or a finished
   * snapshot (then probing resumes after the snapshot index, which the follower now has).
   */
  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  /** Start pipelining from just after the match point. */
  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  /** Stop appends until the snapshot at `snapshotIndex` is reported finished or failed. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * Accounts for a MsgApp carrying `entries` entries and `bytes` of payload, just sent. In
   * Replicate, next moves past them optimistically and they go into the inflights ring; in
   * Probe, sending entries pauses until the follower answers.
   */
  sentEntries(entries: number, bytes: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (entries > 0) {
          this.next += entries;
          this.inflights.add(this.next - 1, bytes);
        }
        this.msgAppFlowPaused = this.inflights.full();
        break;
      case ProgressState.Probe:
        if (entries > 0) this.msgAppFlowPaused = true;
        break;
      case ProgressState.Snapshot:
        assert(false, 'sending append in StateSnapshot');
    }
  }

  /** Records the commit index just sent to the peer. */
  sentCommitIndex(commit: number): void {
    this.sentCommit = commit;
  }

  /**
   * True when sending `commit` could advance the follower's commit index: it is newer than what
   * we sent, and what we sent does not already cover everything the follower has (next-1).
   * Lets the leader tell a follower about a commit it missed while paused, without sending an
   * empty append on every acknowledgement.
   */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /**
   * The follower acknowledged entries up to n. Returns true if that moved the match point (a
   * stale acknowledgement returns false). Unpauses the flow either way when it is news.
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected a MsgApp whose previous index was `rejected`; `matchHint` is where
   * its log may match ours (fast backoff, see `RaftLog.findConflictByTerm`). Returns false if
   * the rejection is stale (it concerns an older probe), true if `next` was lowered.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // A rejection at or below match can only be a stale, reordered message.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In Probe, only the rejection of the message we last sent (index next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    assert(this.match < this.next, 'maybeDecrTo broke match < next');
    return true;
  }

  /** True when no append (with entries) should be sent now. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
      case ProgressState.Replicate:
        return this.msgAppFlowPaused;
      case ProgressState.Snapshot:
        return true;
    }
  }

  /** etcd's one-line rendering, e.g. `StateReplicate match=5 next=6`. */
  toString(): string {
    let s = `${PROGRESS_STATE_NAMES[this.state]} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.isPaused()) s += ' paused';
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    const n = this.inflights.count();
    if (n > 0) {
      s += ` inflight=${n}`;
      if (this.inflights.full()) s += '[full]';
    }
    return s;
  }
}
