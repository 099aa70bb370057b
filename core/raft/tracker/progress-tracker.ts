/**
 * Everything the leader tracks about the group (etcd-io/raft `tracker/tracker.go`): the
 * configuration, each member's {@link Progress}, and the votes of the current election. Quorum
 * questions (what is committed, did we win, is a quorum active) are answered here with the
 * arithmetic of `quorum/`.
 */
import { assert } from '../../util/assert';
import { VoteResult } from '../quorum/vote-result';
import { type ConfState, sortedIds } from '../types';
import { Progress } from './progress';
import { TrackerConfig } from './tracker-config';

/** A map from member id to its progress. Every voter and learner has an entry. */
export type ProgressMap = Map<bigint, Progress>;

/** Result of counting votes. */
export interface VoteTally {
  granted: number;
  rejected: number;
  result: VoteResult;
}

/** Configuration, per-member progress and votes. */
export class ProgressTracker {
  config = new TrackerConfig();
  progress: ProgressMap = new Map();
  /** Votes received in the current election: id → granted. */
  votes = new Map<bigint, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {
    assert(maxInflight > 0, 'maxInflight must be positive');
  }

  /** The current configuration as a ConfState. */
  confState(): ConfState {
    return this.config.toConfState();
  }

  /** True when the group has exactly one voter and is not joint (reads need no round trip). */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.config.voters.isJoint();
  }

  /** The highest index acknowledged by a quorum (joint-aware). */
  committed(): number {
    const prs = this.progress;
    return this.config.voters.committedIndex({ ackedIndex: (id) => prs.get(id)?.match });
  }

  /** Calls `fn` for every member in ascending id order (deterministic message order). */
  visit(fn: (id: bigint, pr: Progress) => void): void {
    for (const id of sortedIds(this.progress.keys())) fn(id, this.progress.get(id)!);
  }

  /**
   * True when a quorum of voters was recently active (heard from within the election
   * timeout); the leader steps down otherwise (CheckQuorum, Raft thesis §6.2).
   */
  quorumActive(): boolean {
    const votes = new Map<bigint, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, pr.recentActive);
    }
    return this.config.voters.voteResult(votes) === VoteResult.Won;
  }

  /** Voter ids, sorted. */
  voterNodes(): bigint[] {
    return this.config.voters.ids();
  }

  /** Learner ids, sorted. */
  learnerNodes(): bigint[] {
    return sortedIds(this.config.learners);
  }

  /** Forgets the votes of the previous election. */
  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; a second vote from the same member is ignored (first answer wins). */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts granted and rejected votes among current members, and the election result. */
  tallyVotes(): VoteTally {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}
