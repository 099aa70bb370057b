/**
 * Rebuilds a tracker configuration from a {@link ConfState} (at startup and when a snapshot is
 * installed), by replaying it as a sequence of changes from the empty configuration. Replaying
 * (rather than copying the sets in) reuses the changer's validation, so a corrupt ConfState is
 * rejected the same way a bad change is.
 */
import { ProgressTracker } from '../tracker/progress-tracker';
import { type ConfChangeSingle, ConfChangeType, type ConfState } from '../types';
import { type ChangeResult, Changer } from './changer';

/**
 * Splits a ConfState into changes that build the outgoing config and changes that, entered
 * jointly on top of it, yield the full state. Example: voters=(1 2 3) learners=(5)
 * outgoing=(1 2 4 6) learners_next=(4) becomes outgoing = add 1,2,4,6 and incoming = remove
 * 1,2,4,6; add 1,2,3; add-learner 5; add-learner 4 — which lands 4 in learners_next because it
 * still votes in the outgoing half.
 */
function toChanges(cs: ConfState): { outgoing: ConfChangeSingle[]; incoming: ConfChangeSingle[] } {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId }));
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.RemoveNode, nodeId })),
    ...cs.voters.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId })),
    ...cs.learners.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
    ...cs.learnersNext.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
  ];
  return { outgoing, incoming };
}

/**
 * The configuration and progress described by `cs`, built on an empty tracker with the given
 * inflight limits; new members are probed from `lastIndex`. Throws `ConfChangeError` if `cs`
 * is not a valid configuration.
 */
export function restoreConfState(
  cs: ConfState,
  lastIndex: number,
  maxInflight: number,
  maxInflightBytes: number,
): ChangeResult {
  const tracker = new ProgressTracker(maxInflight, maxInflightBytes);
  let state: ChangeResult = { config: tracker.config, progress: tracker.progress };
  const step = (op: (c: Changer) => ChangeResult): void => {
    state = op(new Changer({ ...state, maxInflight, maxInflightBytes }, lastIndex));
  };
  const { outgoing, incoming } = toChanges(cs);
  if (outgoing.length === 0) {
    // Not joint: add everyone one change at a time.
    for (const cc of incoming) step((c) => c.simple([cc]));
  } else {
    // Joint: first build C_old so it becomes the incoming config, then enter joint with the
    // remaining changes, which rotates C_old to the outgoing half.
    for (const cc of outgoing) step((c) => c.simple([cc]));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return state;
}
