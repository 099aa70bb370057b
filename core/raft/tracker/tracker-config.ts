/**
 * The membership configuration as the progress tracker sees it (etcd-io/raft `tracker.Config`):
 * who votes (possibly jointly), who learns, and who becomes a learner when a joint
 * configuration is left.
 */
import { JointConfig } from '../quorum/joint-config';
import { type ConfState, sortedIds } from '../types';

/** A (possibly joint) membership configuration. */
export class TrackerConfig {
  /**
   * @param voters incoming and outgoing voter sets (outgoing empty unless joint)
   * @param autoLeave in a joint config: raft proposes the leave itself once the config applies
   * @param learners non-voting members; disjoint from both voter sets
   * @param learnersNext voters of the outgoing config that become learners on leaving joint
   *   (they cannot be learners yet: a node may not be voter and learner at once)
   */
  constructor(
    readonly voters: JointConfig = new JointConfig(),
    public autoLeave = false,
    readonly learners: Set<bigint> = new Set(),
    readonly learnersNext: Set<bigint> = new Set(),
  ) {}

  /** An independent copy. */
  clone(): TrackerConfig {
    return new TrackerConfig(this.voters.clone(), this.autoLeave, new Set(this.learners), new Set(this.learnersNext));
  }

  /** The configuration as a {@link ConfState} (ids sorted). */
  toConfState(): ConfState {
    return {
      voters: this.voters.incoming.ids(),
      votersOutgoing: this.voters.outgoing.ids(),
      learners: sortedIds(this.learners),
      learnersNext: sortedIds(this.learnersNext),
      autoLeave: this.autoLeave,
    };
  }

  /** etcd's rendering: `voters=(1 2)&&(1) learners=(3) learners_next=(4) autoleave`. */
  toString(): string {
    let s = `voters=${this.voters.toString()}`;
    if (this.learners.size > 0) s += ` learners=(${sortedIds(this.learners).join(' ')})`;
    if (this.learnersNext.size > 0) s += ` learners_next=(${sortedIds(this.learnersNext).join(' ')})`;
    if (this.autoLeave) s += ' autoleave';
    return s;
  }
}
