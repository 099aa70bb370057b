/**
 * Errors raised by the raft package. Expected conditions (a compacted index, a dropped proposal,
 * a malformed peer message) are typed errors that callers test with `instanceof`; broken
 * invariants are `AssertionError`s from core/util/assert and crash the process.
 *
 * Storage sentinels follow etcd-io/raft's storage.go: one shared instance per condition
 * (`ErrCompacted`, ...), each an instance of its own class.
 */

/** Base class of every expected raft error. */
export class RaftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Storage: the requested index is older than the first available entry (it was compacted). */
export class CompactedError extends RaftError {
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}
/** The shared {@link CompactedError} instance storage implementations throw. */
export const ErrCompacted = new CompactedError();

/** Storage: the requested index is newer than the last available entry. */
export class UnavailableError extends RaftError {
  constructor() {
    super('requested entry at index is unavailable');
  }
}
/** The shared {@link UnavailableError} instance storage implementations throw. */
export const ErrUnavailable = new UnavailableError();

/** Storage: a snapshot is being prepared; raft retries the send later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}
/** The shared {@link SnapshotTemporarilyUnavailableError} instance. */
export const ErrSnapshotTemporarilyUnavailable = new SnapshotTemporarilyUnavailableError();

/** Storage: a snapshot older than the one already held was offered. */
export class SnapOutOfDateError extends RaftError {
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}
/** The shared {@link SnapOutOfDateError} instance. */
export const ErrSnapOutOfDate = new SnapOutOfDateError();

/** Why a proposal (or read/transfer request) was not accepted. */
export type DropReason =
  | 'no-leader'
  | 'transfer-in-progress'
  | 'uncommitted-size-limit'
  | 'forwarding-disabled'
  | 'not-in-config'
  | 'transferee-not-voter';

/**
 * A proposal, ReadIndex or leadership transfer was refused and will not happen. The caller may
 * retry later (typically after a leader is known). Test with `instanceof ProposalDroppedError`;
 * `reason` tells the driver which etcd error to surface.
 */
export class ProposalDroppedError extends RaftError {
  constructor(readonly reason: DropReason = 'no-leader') {
    super(`raft proposal dropped (${reason})`);
  }
}
/** A generic {@link ProposalDroppedError} instance (for comparisons in tests and docs). */
export const ErrProposalDropped = new ProposalDroppedError();

/** `RawNode.step` was given a message type that only raft itself may generate. */
export class StepLocalMessageError extends RaftError {
  constructor() {
    super('raft: cannot step raft local message');
  }
}
/** The shared {@link StepLocalMessageError} instance. */
export const ErrStepLocalMsg = new StepLocalMessageError();

/** `RawNode.step` was given a response from a peer that is not in the configuration. */
export class StepPeerNotFoundError extends RaftError {
  constructor() {
    super('raft: cannot step as peer not found');
  }
}
/** The shared {@link StepPeerNotFoundError} instance. */
export const ErrStepPeerNotFound = new StepPeerNotFoundError();

/** The {@link RaftConfig} given to a node is invalid; raised at construction. */
export class RaftConfigError extends RaftError {}

/** A configuration change cannot be applied to the current configuration. */
export class ConfChangeError extends RaftError {}

/** A byte string is not a valid encoding; the shared decode error of core/util (raft's codec throws it). */
export { DecodeError } from '../util/decode-error';
