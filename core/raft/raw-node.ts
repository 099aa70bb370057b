/**
 * The synchronous API of a raft node (etcd-io/raft `RawNode`). The driver (core/server) owns
 * the timer, the disk and the sockets: it calls `tick()` on a timer, `step()` for every peer
 * message, `propose()`/`readIndex()` for client requests, and runs the Ready loop
 * (`hasReady` → `ready` → persist/send/apply → `advance`) described on {@link Ready}.
 *
 * Everything is deterministic: the same state and the same sequence of calls give the same
 * Readies. Errors the caller must handle are typed (`ProposalDroppedError`,
 * `StepLocalMessageError`, `StepPeerNotFoundError`, `InvalidMessageError`, `ConfChangeError`);
 * an `AssertionError` means a broken invariant and must crash the process.
 */
import { assert } from '../util/assert';
import { toHex } from '../util/bigint';
import { encodeConfChange, encodeConfChangeV2 } from './codec';
import { type RaftConfig, validateConfig } from './config';
import { payloadsSize } from './entry-size';
import { ErrStepLocalMsg, ErrStepPeerNotFound, ProposalDroppedError, RaftError } from './errors';
import { Raft } from './raft';
import { applyConfChange } from './raft-membership';
import { type Ready, mustSync } from './ready';
import { type BasicStatus, type Status, getBasicStatus, getStatus } from './status';
import {
  type AnyConfChange,
  ConfChangeTransition,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  NONE,
  type SoftState,
  StateType,
  asConfChangeV2,
  hardStateEqual,
  isConfChangeV2,
  isLocalMessage,
  isResponseMessage,
  newMessage,
} from './types';

/** A message from a peer that cannot be valid (missing snapshot, wrong entry count...). */
export class InvalidMessageError extends RaftError {}

/** Outcome of sending a snapshot, for {@link RawNode.reportSnapshot}. */
export type SnapshotStatus = 'finish' | 'failure';

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

/** A raft node driven synchronously by its owner. Not re-entrant. */
export class RawNode {
  /** The state machine. Exposed for status, tests and the simulator; drive it only through RawNode. */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  /** The hard state most recently handed out and acknowledged by `advance` (i.e. persisted). */
  private prevHardState: HardState;
  /** The Ready handed out and not yet advanced. */
  private outstanding: Ready | undefined;

  /** Creates a node from `config` (validated; throws `RaftConfigError`) and its storage's state. */
  constructor(config: RaftConfig) {
    const validated = validateConfig(config);
    this.raft = new Raft(validated);
    this.prevSoftState = this.raft.softState();
    // What is on disk, not what raft derived from it: if raft raised the commit index on
    // restart (see RaftConfig.applied), the first Ready carries it for persisting.
    this.prevHardState = validated.storage.initialState().hardState;
  }

  /** Advances the logical clock: election timeouts, heartbeats, CheckQuorum. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (a follower's election timeout without waiting). */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup }));
  }

  /**
   * Proposes `data` for appending to the log. Returns once it is queued (on the leader: in the
   * log; on a follower: forwarded); commitment is observed through `committedEntries`. Throws
   * `ProposalDroppedError` when there is no leader, a leadership transfer is in progress, the
   * uncommitted-size limit is reached, or forwarding is disabled. `data` must not be mutated
   * afterwards.
   */
  propose(data: Uint8Array): void {
    const e: Entry = { term: 0, index: 0, type: EntryType.Normal, data };
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [e] }));
  }

  /**
   * Proposes several entries as one MsgProp, so that they travel together: one append message
   * per follower instead of one per entry. All or none are accepted (same errors as
   * {@link propose}).
   */
  proposeBatch(data: readonly Uint8Array[]): void {
    const entries: Entry[] = data.map((d) => ({ term: 0, index: 0, type: EntryType.Normal, data: d }));
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries }));
  }

  /**
   * Proposes a membership change (v1 or v2). Same errors as {@link propose}. If another conf
   * change is still unapplied, the leader replaces this one with an empty entry (it commits
   * but changes nothing), as etcd-io/raft does.
   */
  proposeConfChange(cc: AnyConfChange): void {
    const e: Entry = isConfChangeV2(cc)
      ? { term: 0, index: 0, type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) }
      : { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) };
    this.raft.step(newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [e] }));
  }

  /**
   * Applies a committed conf change (call it when applying the entry) and returns the new
   * configuration, which the application should store with its state. Throws `ConfChangeError`
   * and changes nothing if the change is invalid for the current configuration.
   */
  applyConfChange(cc: AnyConfChange): ConfState {
    return applyConfChange(this.raft, asConfChangeV2(cc));
  }

  /**
   * Feeds a message from a peer. Throws `StepLocalMessageError` for local-only types,
   * `StepPeerNotFoundError` for a response from a non-member, `InvalidMessageError` for a
   * malformed message. Forwarded proposals/reads that cannot be served are dropped silently
   * (their origin times out and retries, as in etcd).
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw ErrStepLocalMsg;
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) throw ErrStepPeerNotFound;
    validatePeerMessage(m);
    try {
      this.raft.step(m);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      this.raft.logger.debug(`${this.raft.hexId()} dropped ${MessageType[m.type]} from ${toHex(m.from)}: ${e.reason}`);
    }
  }

  /**
   * Requests a read index for linearizable reads; the answer arrives as a `ReadState` with the
   * same `ctx` in a later Ready. `ctx` must be unique per outstanding request (etcd uses an
   * 8-byte request id). Throws `ProposalDroppedError('no-leader')` when no leader is known. A
   * new leader queues requests until it has committed an entry of its term.
   */
  readIndex(ctx: Uint8Array): void {
    const e: Entry = { term: 0, index: 0, type: EntryType.Normal, data: ctx };
    this.raft.step(newMessage({ type: MessageType.MsgReadIndex, entries: [e] }));
  }

  /**
   * Asks the leader to hand leadership to `transferee` (thesis §3.10): proposals are refused
   * until the transferee is elected or an election timeout passes. Throws
   * `ProposalDroppedError` when no leader is known or the transferee is not a voter.
   */
  transferLeader(transferee: bigint): void {
    const r = this.raft;
    if (r.state === StateType.Leader && !r.trk.config.voters.has(transferee)) {
      throw new ProposalDroppedError('transferee-not-voter');
    }
    r.step(newMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /**
   * Forgets the current leader (followers only), so that this node grants votes without
   * waiting out the leader lease. Ignored with lease-based reads.
   */
  forgetLeader(): void {
    this.raft.step(newMessage({ type: MessageType.MsgForgetLeader }));
  }

  /** Reports that the last message to `id` could not be delivered (leader moves it to probing). */
  reportUnreachable(id: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** Reports the outcome of sending a MsgSnap to `id`. */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    this.raft.step(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === 'failure' }));
  }

  /**
   * True when {@link ready} would return something to do. Always false while a Ready is
   * outstanding (handed out and not yet advanced).
   */
  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 || r.raftLog.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  /**
   * Hands out the pending work (see {@link Ready} for the contract). Must be followed by
   * `advance(rd)` before the next call.
   */
  ready(): Ready {
    assert(this.outstanding === undefined, 'ready() called again before advance()');
    const r = this.raft;
    const entries = r.raftLog.unstableEntries();
    const hs = r.hardState();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      // A snapshot replaces the log: it must be as durable as entries would be.
      mustSync: mustSync(hs, this.prevHardState, entries.length) || r.raftLog.unstable.snapshot !== undefined,
    };
    const ss = r.softState();
    if (!softStateEqual(ss, this.prevSoftState)) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    if (!hardStateEqual(hs, this.prevHardState)) rd.hardState = hs;
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  /**
   * Acknowledges that `rd` was processed: its entries, hard state and snapshot are durable and
   * its committed entries applied. Marks them stable and applied, and may propose the automatic
   * leave of a joint configuration.
   */
  advance(rd: Ready): void {
    assert(rd === this.outstanding, 'advance() called with a Ready that was not the outstanding one');
    this.outstanding = undefined;
    const r = this.raft;
    if (rd.hardState) this.prevHardState = rd.hardState;
    r.reduceUncommittedSize(payloadsSize(rd.committedEntries));
    const last = rd.committedEntries[rd.committedEntries.length - 1];
    const newApplied = last ? last.index : rd.snapshot ? rd.snapshot.metadata.index : 0;
    if (newApplied > 0) {
      r.raftLog.appliedTo(newApplied);
      this.maybeAutoLeaveJoint(newApplied);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry) r.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  /**
   * Once a joint configuration with autoLeave is applied, the leader proposes leaving it
   * (thesis §4.3: C_new is committed after C_old,new). A refused proposal (transfer in
   * progress) is retried after the next applied entry.
   */
  private maybeAutoLeaveJoint(newApplied: number): void {
    const r = this.raft;
    if (!r.trk.config.autoLeave || newApplied < r.pendingConfIndex || r.state !== StateType.Leader) return;
    const leave = { transition: ConfChangeTransition.Auto, changes: [], context: EMPTY_BYTES };
    const e: Entry = { term: 0, index: 0, type: EntryType.ConfChangeV2, data: encodeConfChangeV2(leave) };
    try {
      r.step(newMessage({ type: MessageType.MsgProp, from: r.id, entries: [e] }));
      r.logger.info(`initiating automatic transition out of joint configuration ${r.trk.config.toString()}`);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      r.logger.debug(`not initiating automatic transition out of joint configuration: ${err.reason}`);
    }
  }

  /** A copy of the node's current state, including every member's progress on the leader. */
  status(): Status {
    return getStatus(this.raft);
  }

  /** Term, vote, commit, leader, role and applied index, without the progress map (cheap). */
  basicStatus(): BasicStatus {
    return getBasicStatus(this.raft);
  }
}

/** Rejects peer messages that would trip an invariant check deeper in (they cannot be valid). */
function validatePeerMessage(m: Message): void {
  if (m.from === NONE) throw new InvalidMessageError(`${MessageType[m.type]} without a sender`);
  if (m.type === MessageType.MsgSnap && m.snapshot === undefined) throw new InvalidMessageError('MsgSnap without a snapshot');
  if (m.type === MessageType.MsgProp && m.entries.length === 0) throw new InvalidMessageError('MsgProp without entries');
  if (m.type === MessageType.MsgReadIndex && m.entries.length !== 1) {
    throw new InvalidMessageError(`MsgReadIndex with ${m.entries.length} entries`);
  }
  for (let i = 1; i < m.entries.length; i++) {
    if (m.type === MessageType.MsgApp && m.entries[i]!.index !== m.entries[i - 1]!.index + 1) {
      throw new InvalidMessageError('MsgApp entries are not contiguous');
    }
  }
  if (m.type === MessageType.MsgApp && m.entries.length > 0 && m.entries[0]!.index !== m.index + 1) {
    throw new InvalidMessageError('MsgApp entries do not follow its index');
  }
}
