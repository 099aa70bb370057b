/**
 * Applies configuration changes to a tracker configuration (etcd-io/raft `confchange/`),
 * producing a new configuration and progress map without touching the inputs, so a rejected
 * change leaves the node unchanged.
 *
 * - `simple`: at most one voter added or removed (Raft thesis §4.1, single-server changes).
 * - `enterJoint`: C_old becomes the outgoing half, the changes build C_new (thesis §4.3).
 * - `leaveJoint`: drop C_old; staged learners (learnersNext) become learners.
 */
import { assert } from '../../util/assert';
import { ConfChangeError } from '../errors';
import { MajorityConfig } from '../quorum/majority-config';
import { Inflights } from '../tracker/inflights';
import { Progress } from '../tracker/progress';
import type { ProgressMap } from '../tracker/progress-tracker';
import { TrackerConfig } from '../tracker/tracker-config';
import { type ConfChangeSingle, ConfChangeType } from '../types';

/** A configuration and its progress map, as produced by the {@link Changer}. */
export interface ChangeResult {
  config: TrackerConfig;
  progress: ProgressMap;
}

/** What the changer starts from. */
export interface ChangerBase {
  config: TrackerConfig;
  progress: ProgressMap;
  maxInflight: number;
  maxInflightBytes: number;
}

/** Computes configurations that result from changes to `base`. */
export class Changer {
  /**
   * @param base the current configuration and progress (not modified)
   * @param lastIndex the leader's last log index: new members are probed from there
   */
  constructor(
    private readonly base: ChangerBase,
    private readonly lastIndex: number,
  ) {}

  /** Enters a joint configuration: C_old = current voters, C_new = current voters + changes. */
  enterJoint(autoLeave: boolean, changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.copy();
    if (config.voters.isJoint()) throw new ConfChangeError('config is already joint');
    if (config.voters.incoming.size === 0) {
      // Adding to an empty config is allowed (bootstrap), but not entering a joint one.
      throw new ConfChangeError("can't make a zero-voter config joint");
    }
    const outgoing = config.voters.outgoing;
    for (const id of config.voters.incoming.ids()) outgoing.add(id);
    this.apply(config, progress, changes);
    config.autoLeave = autoLeave;
    return checked(config, progress);
  }

  /** Leaves a joint configuration: only C_new remains; staged learners become learners. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.copy();
    if (!config.voters.isJoint()) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of config.learnersNext) {
      config.learners.add(id);
      progress.get(id)!.isLearner = true;
    }
    config.learnersNext.clear();
    for (const id of config.voters.outgoing.ids()) {
      if (!config.voters.incoming.has(id) && !config.learners.has(id)) progress.delete(id);
    }
    for (const id of config.voters.outgoing.ids()) config.voters.outgoing.delete(id);
    config.autoLeave = false;
    return checked(config, progress);
  }

  /**
   * Applies changes that alter at most one voter, outside a joint configuration. More than one
   * voter changing at once could produce two disjoint majorities (thesis §4.1).
   */
  simple(changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.copy();
    if (config.voters.isJoint()) throw new ConfChangeError("can't apply simple config change in joint config");
    this.apply(config, progress, changes);
    if (symmetricDifference(this.base.config.voters.incoming, config.voters.incoming) > 1) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return checked(config, progress);
  }

  private apply(config: TrackerConfig, progress: ProgressMap, changes: ConfChangeSingle[]): void {
    for (const cc of changes) {
      // etcd zeroes the node id of a change it decided (above raft) not to apply.
      if (cc.nodeId === 0n) continue;
      switch (cc.type) {
        case ConfChangeType.AddNode:
          this.makeVoter(config, progress, cc.nodeId);
          break;
        case ConfChangeType.AddLearnerNode:
          this.makeLearner(config, progress, cc.nodeId);
          break;
        case ConfChangeType.RemoveNode:
          remove(config, progress, cc.nodeId);
          break;
        case ConfChangeType.UpdateNode:
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${String(cc.type)}`);
      }
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, false);
      return;
    }
    pr.isLearner = false;
    config.learners.delete(id);
    config.learnersNext.delete(id);
    config.voters.incoming.add(id);
  }

  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
    const pr = progress.get(id);
    if (!pr) {
      this.initProgress(config, progress, id, true);
      return;
    }
    if (pr.isLearner) return;
    // Remove as an incoming voter but keep the progress...
    remove(config, progress, id);
    progress.set(id, pr);
    // ...and if it still votes in C_old it can only become a learner when joint is left.
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id);
    } else {
      pr.isLearner = true;
      config.learners.add(id);
    }
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: bigint, isLearner: boolean): void {
    if (isLearner) config.learners.add(id);
    else config.voters.incoming.add(id);
    progress.set(
      id,
      new Progress({
        // Probe from the leader's last index; the follower's rejection walks it back.
        match: 0,
        next: Math.max(this.lastIndex, 1),
        inflights: new Inflights(this.base.maxInflight, this.base.maxInflightBytes),
        isLearner,
        // A new member counts as active, or CheckQuorum could depose the leader before the
        // newcomer has had a chance to answer.
        recentActive: true,
      }),
    );
  }

  private copy(): ChangeResult {
    const progress: ProgressMap = new Map();
    for (const [id, pr] of this.base.progress) progress.set(id, pr.clone());
    return { config: this.base.config.clone(), progress };
  }
}

function remove(config: TrackerConfig, progress: ProgressMap, id: bigint): void {
  if (!progress.has(id)) return;
  config.voters.incoming.delete(id);
  config.learners.delete(id);
  config.learnersNext.delete(id);
  // A voter of C_old keeps its progress until the joint config is left.
  if (!config.voters.outgoing.has(id)) progress.delete(id);
}

function symmetricDifference(a: MajorityConfig, b: MajorityConfig): number {
  let n = 0;
  for (const id of a.ids()) if (!b.has(id)) n++;
  for (const id of b.ids()) if (!a.has(id)) n++;
  return n;
}

/** Validates the invariants tying the configuration to the progress map. */
function checked(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  const fail = (msg: string): never => {
    throw new ConfChangeError(msg);
  };
  for (const id of [...config.voters.ids(), ...config.learners, ...config.learnersNext]) {
    if (!progress.has(id)) fail(`no progress for ${id}`);
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id)) fail(`${id} is in LearnersNext, but not Voters[1]`);
    if (progress.get(id)!.isLearner) fail(`${id} is in LearnersNext, but is already marked as learner`);
  }
  for (const id of config.learners) {
    if (config.voters.outgoing.has(id)) fail(`${id} is in Learners and Voters[1]`);
    if (config.voters.incoming.has(id)) fail(`${id} is in Learners and Voters[0]`);
    if (!progress.get(id)!.isLearner) fail(`${id} is in Learners, but is not marked as learner`);
  }
  if (!config.voters.isJoint()) {
    if (config.learnersNext.size > 0) fail('LearnersNext must be empty when not joint');
    if (config.autoLeave) fail('AutoLeave must be false when not joint');
  }
  assert(progress.size >= config.voters.incoming.size, 'fewer progress entries than voters');
  return { config, progress };
}
