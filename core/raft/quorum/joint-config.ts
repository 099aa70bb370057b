/**
 * Joint quorums (Raft thesis §4.3): during a membership change from C_old to C_new, every
 * decision needs a majority of *both*. `incoming` is C_new; `outgoing` is C_old and is empty
 * outside a joint configuration.
 */
import { sortedIds } from '../types';
import { MajorityConfig } from './majority-config';
import { type AckedIndexer, VoteResult } from './vote-result';

/** Two majority configurations that must both agree. */
export class JointConfig {
  constructor(
    readonly incoming: MajorityConfig = new MajorityConfig(),
    readonly outgoing: MajorityConfig = new MajorityConfig(),
  ) {}

  /** True when in a joint configuration (the outgoing half is non-empty). */
  isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half, sorted ascending. */
  ids(): bigint[] {
    const all = new Set<bigint>(this.incoming.ids());
    for (const id of this.outgoing.ids()) all.add(id);
    return sortedIds(all);
  }

  /** True when `id` votes in either half. */
  has(id: bigint): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  /** An independent copy. */
  clone(): JointConfig {
    return new JointConfig(this.incoming.clone(), this.outgoing.clone());
  }

  /** "(1 2 3)" or "(1 2 3)&&(1 2 4)" as etcd prints it. */
  toString(): string {
    if (!this.isJoint()) return this.incoming.toString();
    return `${this.incoming.toString()}&&${this.outgoing.toString()}`;
  }

  /** The index committed by both halves: the smaller of their committed indexes. */
  committedIndex(l: AckedIndexer): number {
    return Math.min(this.incoming.committedIndex(l), this.outgoing.committedIndex(l));
  }

  /**
   * Won only if both halves won; Lost if either lost; otherwise Pending. (An empty outgoing
   * half always "wins", so outside a joint config this is the incoming half's result.)
   */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    const r1 = this.incoming.voteResult(votes);
    const r2 = this.outgoing.voteResult(votes);
    if (r1 === r2) return r1;
    if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost;
    return VoteResult.Pending;
  }
}
