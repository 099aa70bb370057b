/**
 * A read-only snapshot of a node's state for observability (etcd-io/raft `Status`): metrics,
 * `/health`, the etcd maintenance Status RPC, and tests.
 */
import type { Raft } from './raft';
import { type ProgressState } from './tracker/progress';
import { type ConfState, type HardState, type SoftState, StateType } from './types';

/** One member's replication progress as seen by the leader. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  paused: boolean;
  pendingSnapshot: number;
  inflight: number;
}

/**
 * The state of a node at one moment. All fields are copies. As in etcd-io/raft, the hard and
 * soft state are also available flattened (`term`, `vote`, `commit`, `lead`, `raftState`).
 */
export interface Status {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  term: number;
  vote: bigint;
  commit: number;
  lead: bigint;
  raftState: StateType;
  applied: number;
  /** Per-member progress; only filled in on the leader (empty elsewhere). */
  progress: Map<bigint, ProgressStatus>;
  /** Target of an ongoing leadership transfer, or 0n. */
  leadTransferee: bigint;
  /** The current configuration. */
  confState: ConfState;
  /** The configuration rendered as etcd prints it, e.g. `voters=(1 2 3) learners=(4)`. */
  config: string;
}

/** The cheap part of {@link Status}: no per-member progress (etcd-io/raft BasicStatus). */
export type BasicStatus = Omit<Status, 'progress' | 'confState' | 'config'>;

/** Builds a {@link BasicStatus} of `r` without walking the progress map. */
export function getBasicStatus(r: Raft): BasicStatus {
  const hardState = r.hardState();
  const softState = r.softState();
  return { id: r.id, hardState, softState, ...hardState, ...softState, applied: r.raftLog.applied, leadTransferee: r.leadTransferee };
}

/** Builds a {@link Status} of `r`. */
export function getStatus(r: Raft): Status {
  const progress = new Map<bigint, ProgressStatus>();
  if (r.state === StateType.Leader) {
    r.trk.visit((id, pr) => {
      progress.set(id, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        isLearner: pr.isLearner,
        recentActive: pr.recentActive,
        paused: pr.isPaused(),
        pendingSnapshot: pr.pendingSnapshot,
        inflight: pr.inflights.count(),
      });
    });
  }
  const hardState = r.hardState();
  const softState = r.softState();
  return {
    id: r.id,
    hardState,
    softState,
    ...hardState,
    ...softState,
    applied: r.raftLog.applied,
    progress,
    leadTransferee: r.leadTransferee,
    confState: r.trk.confState(),
    config: r.trk.config.toString(),
  };
}
