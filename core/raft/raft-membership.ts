/**
 * Membership changes as the state machine sees them (Raft thesis chapter 4): a change takes
 * effect when the application applies the committed entry and calls `applyConfChange`.
 */
import { assert } from '../util/assert';
import { type ChangeResult, Changer } from './confchange/changer';
import type { Raft } from './raft';
import { bcastAppend, maybeCommit, maybeSendAppend } from './raft-replication';
import type { ProgressMap } from './tracker/progress-tracker';
import type { TrackerConfig } from './tracker/tracker-config';
import { type ConfChangeV2, type ConfState, NONE, StateType, enterJoint, isLeaveJoint } from './types';

/**
 * Applies a committed configuration change and returns the new ConfState. Throws
 * `ConfChangeError` (leaving the node unchanged) if the change is invalid for the current
 * configuration.
 */
export function applyConfChange(r: Raft, cc: ConfChangeV2): ConfState {
  const changer = new Changer(r.trk, r.raftLog.lastIndex());
  let result: ChangeResult;
  if (isLeaveJoint(cc)) {
    result = changer.leaveJoint();
  } else {
    const joint = enterJoint(cc);
    result = joint ? changer.enterJoint(joint.autoLeave, cc.changes) : changer.simple(cc.changes);
  }
  return switchToConfig(r, result.config, result.progress);
}

/**
 * Installs a configuration and its progress map, then reacts: a removed or demoted leader may
 * step down; a leader commits what the new quorum allows and probes new members at once.
 */
export function switchToConfig(r: Raft, config: TrackerConfig, progress: ProgressMap): ConfState {
  r.trk.config = config;
  r.trk.progress = progress;
  r.logger.info(`${r.hexId()} switched to configuration ${config.toString()}`);
  const cs = r.trk.confState();
  const pr = progress.get(r.id);
  r.isLearner = pr !== undefined && pr.isLearner;
  if ((pr === undefined || r.isLearner) && r.state === StateType.Leader) {
    // Removed (or demoted) while leading. Without stepDownOnRemoval we keep leading until the
    // next election so that the change itself gets committed on the new configuration
    // (thesis §4.2.2), but we no longer accept proposals (see stepLeader).
    if (r.stepDownOnRemoval) r.becomeFollower(r.term, NONE);
    return cs;
  }
  if (r.state !== StateType.Leader || cs.voters.length === 0) return cs;
  assert(progress.has(r.id), 'leader lost its own progress');
  if (maybeCommit(r)) {
    // A smaller quorum may commit more at once; tell everyone.
    bcastAppend(r);
  } else {
    // Probe newly added members right away instead of waiting for a heartbeat.
    r.trk.visit((id) => {
      if (id !== r.id) maybeSendAppend(r, id, false);
    });
  }
  // A transfer to a node that no longer votes cannot complete.
  if (r.leadTransferee !== NONE && !r.trk.config.voters.has(r.leadTransferee)) r.abortLeaderTransfer();
  return cs;
}
