/**
 * Majority quorums (Raft thesis §3.4, §3.6): a set of voters, the index a majority of them has
 * acknowledged, and whether a majority voted yes.
 */
import { assert } from '../../util/assert';
import { sortedIds } from '../types';
import { type AckedIndexer, NO_CONSTRAINT_INDEX, VoteResult } from './vote-result';

/** A set of voter ids deciding by simple majority. Iteration order is not significant. */
export class MajorityConfig {
  private readonly voters: Set<bigint>;

  constructor(ids: Iterable<bigint> = []) {
    this.voters = new Set(ids);
  }

  get size(): number {
    return this.voters.size;
  }

  has(id: bigint): boolean {
    return this.voters.has(id);
  }

  add(id: bigint): void {
    this.voters.add(id);
  }

  delete(id: bigint): void {
    this.voters.delete(id);
  }

  /** The ids, sorted ascending. */
  ids(): bigint[] {
    return sortedIds(this.voters);
  }

  /** An independent copy. */
  clone(): MajorityConfig {
    return new MajorityConfig(this.voters);
  }

  /** The ids as "(1 2 3)" (decimal, sorted), as etcd prints a config. */
  toString(): string {
    return `(${this.ids().join(' ')})`;
  }

  /**
   * The largest index that a majority of voters has acknowledged: sort the acked indexes in
   * descending order and take the one at position ⌊n/2⌋. An empty configuration imposes no
   * constraint and returns {@link NO_CONSTRAINT_INDEX} (so a joint config with an empty half
   * is decided by the other half).
   */
  committedIndex(l: AckedIndexer): number {
    const n = this.voters.size;
    if (n === 0) return NO_CONSTRAINT_INDEX;
    const acked: number[] = new Array<number>(n);
    let i = 0;
    for (const id of this.voters) acked[i++] = l.ackedIndex(id) ?? 0;
    acked.sort((a, b) => a - b);
    // Ascending order: the quorum (n/2+1 voters) all have at least acked[n - quorum].
    const quorum = Math.floor(n / 2) + 1;
    const idx = acked[n - quorum]!;
    assert(idx >= 0, 'negative acked index');
    return idx;
  }

  /**
   * The election result given yes (true) / no (false) votes; voters absent from `votes` have
   * not answered yet. An empty configuration wins by convention (joint-config arithmetic).
   */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    if (this.voters.size === 0) return VoteResult.Won;
    let yes = 0;
    let missing = 0;
    for (const id of this.voters) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) yes++;
    }
    const quorum = Math.floor(this.voters.size / 2) + 1;
    if (yes >= quorum) return VoteResult.Won;
    if (yes + missing >= quorum) return VoteResult.Pending;
    return VoteResult.Lost;
  }
}
