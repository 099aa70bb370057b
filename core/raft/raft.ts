/**
 * The Raft state machine (after etcd-io/raft `raft.go`): roles, terms, ticks and the entry
 * point for every message. Role-specific handling lives next to it: `raft-leader.ts`,
 * `raft-candidate.ts`, `raft-follower.ts`; elections in `raft-election.ts`; log replication
 * in `raft-replication.ts`; membership in `raft-membership.ts`.
 *
 * No I/O, no clock, no randomness of its own: time is `tick()`, randomness is the injected
 * `Rand`, and every output is queued in `msgs`, `readStates` and the log for the `Ready`.
 */
import { assert } from '../util/assert';
import { toHex } from '../util/bigint';
import type { Logger } from '../util/logger';
import type { Rand } from '../util/rand';
import { type ValidatedConfig } from './config';
import { restoreConfState } from './confchange/restore';
import { payloadsSize } from './entry-size';
import { stepCandidate } from './raft-candidate';
import { handleVoteRequest, hup, isCampaignTransfer } from './raft-election';
import { stepFollower } from './raft-follower';
import { stepLeader } from './raft-leader';
import { switchToConfig } from './raft-membership';
import { appendEntry } from './raft-replication';
import { RaftLog } from './raft-log';
import { ReadOnly } from './read-only';
import { Inflights } from './tracker/inflights';
import { Progress } from './tracker/progress';
import { ProgressTracker } from './tracker/progress-tracker';
import {
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  NONE,
  type ReadState,
  type SoftState,
  StateType,
  isEmptyHardState,
  newMessage,
} from './types';

/** Display names of roles, as etcd prints them. */
export const STATE_NAMES: Record<StateType, string> = {
  [StateType.Follower]: 'StateFollower',
  [StateType.Candidate]: 'StateCandidate',
  [StateType.Leader]: 'StateLeader',
  [StateType.PreCandidate]: 'StatePreCandidate',
};

type StepFn = (r: Raft, m: Message) => void;

/** The raft state machine of one node. Driven only through `RawNode`. */
export class Raft {
  readonly id: bigint;
  term = 0;
  vote: bigint = NONE;
  lead: bigint = NONE;
  state: StateType = StateType.Follower;
  /** True when this node is a learner in the current configuration. */
  isLearner = false;

  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  readOnly: ReadOnly;

  /** Outgoing messages, drained into the next Ready. */
  msgs: Message[] = [];
  /** Answered read requests, drained into the next Ready. */
  readStates: ReadState[] = [];
  /** Reads received before this leader committed an entry of its term (thesis §6.4). */
  pendingReadIndexMessages: Message[] = [];

  /** The target of an ongoing leadership transfer, or NONE. */
  leadTransferee: bigint = NONE;
  /**
   * Log index of the latest conf change proposed by this leader; no new conf change is accepted
   * until it is applied (one change at a time, Raft thesis §4.1).
   */
  pendingConfIndex = 0;
  /** Payload bytes of entries appended by this leader and not yet committed-and-handed-out. */
  uncommittedSize = 0;

  /** Ticks since the last election timeout reset (followers/candidates) or CheckQuorum round (leader). */
  electionElapsed = 0;
  /** Ticks since the last heartbeat (leader only). */
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly logger: Logger;
  private readonly rand: Rand;
  private stepFn: StepFn = stepFollower;

  constructor(c: ValidatedConfig) {
    this.id = c.id;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady);
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize;
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);
    this.readOnly = new ReadOnly(c.readOnlyOption);
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.stepDownOnRemoval = c.stepDownOnRemoval;
    this.logger = c.logger;
    this.rand = c.rand;

    const { hardState, confState } = c.storage.initialState();
    const restored = restoreConfState(confState, this.raftLog.lastIndex(), c.maxInflightMsgs, c.maxInflightBytes);
    switchToConfig(this, restored.config, restored.progress);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0) this.restoreApplied(c.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      `newRaft ${this.hexId()} [peers: [${this.trk.voterNodes().map(toHex).join(',')}], term: ${this.term}, ` +
        `commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, ` +
        `lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  /** This node's id in hex, as etcd logs it. */
  hexId(): string {
    return toHex(this.id);
  }

  /** True once an election can be won by this node: it is a voter and not installing a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  /** The volatile leader/role pair reported in Readies. */
  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  /** The state to persist: term, vote, commit. */
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      `${this.hexId()} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /**
   * Sets the applied index on restart. A commit-only HardState write need not be synced (see
   * `mustSync`), so after a crash the saved commit index can lag what the application applied;
   * anything applied was committed, so the commit index is raised to match. An applied index
   * beyond the durable log means the application applied entries that were never made durable:
   * the driver broke the Ready contract, and the node must not start.
   */
  private restoreApplied(applied: number): void {
    const last = this.raftLog.lastIndex();
    assert(applied <= last, `applied index ${applied} is beyond the durable log (last index ${last})`);
    if (applied > this.raftLog.committed) this.raftLog.commitTo(applied);
    this.raftLog.appliedTo(applied);
  }

  /**
   * Queues a message for the next Ready. Vote traffic must carry an explicit term (a pre-vote is
   * sent for a future term); everything else is stamped with the current term, except
   * MsgProp and MsgReadIndex, which are forwarded like local messages and carry no term.
   */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    const t = m.type;
    if (t === MessageType.MsgVote || t === MessageType.MsgVoteResp || t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp) {
      assert(m.term !== 0, `term should be set when sending ${MessageType[t]}`);
    } else {
      assert(m.term === 0, `term should not be set when sending ${MessageType[t]} (was ${m.term})`);
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    assert(m.to !== this.id, `${this.hexId()} sending ${MessageType[t]} to itself`);
    this.msgs.push(m);
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that has not completed within an election timeout is abandoned (the
      // transferee is probably unreachable) so that proposals are accepted again.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  /** True once electionElapsed reached the randomized timeout in [electionTimeout, 2·electionTimeout). */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Draws a new election timeout in [electionTimeout, 2·electionTimeout) from the injected Rand. */
  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  /** Resets per-term volatile state; a term change also clears the vote. */
  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, `term must not go backwards (${this.term} → ${term})`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    this.trk.visit((id, pr) => {
      const fresh = new Progress({
        match: id === this.id ? last : 0,
        next: last + 1,
        inflights: new Inflights(this.trk.maxInflight, this.trk.maxInflightBytes),
        isLearner: pr.isLearner,
      });
      this.trk.progress.set(id, fresh);
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
  }

  /** Follows `lead` (or no one) at `term`; the term may only grow. */
  becomeFollower(term: number, lead: bigint): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.info(`${this.hexId()} became follower at term ${this.term}`);
  }

  /** Starts a real election: next term, vote for ourselves (Raft thesis §3.4). */
  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info(`${this.hexId()} became candidate at term ${this.term}`);
  }

  /** Pre-candidates keep their term and vote: a pre-vote changes nothing durable (thesis §9.6). */
  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    this.stepFn = stepCandidate;
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger.info(`${this.hexId()} became pre-candidate at term ${this.term}`);
  }

  /**
   * Takes leadership: every follower is probed from our last index, and an empty entry is
   * appended so that something of this term can commit (thesis §3.6.2, §6.4: only then is the
   * commit index known to be current).
   */
  becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id);
    assert(self !== undefined, 'leader must be in its own configuration');
    // We are trivially in sync with ourselves; counting ourselves as active avoids a spurious
    // CheckQuorum step-down before we hear from anyone.
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively treat any conf change in the uncommitted tail as pending.
    this.pendingConfIndex = this.raftLog.lastIndex();
    const empty: Entry = { term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES };
    assert(appendEntry(this, [empty]), 'empty entry was dropped');
    this.logger.info(`${this.hexId()} became leader at term ${this.term}`);
  }

  /**
   * The entry point for every message (local and remote). Handles the term first (stepping
   * down on a higher term, rejecting stale ones), then votes, then dispatches by role. Throws
   * {@link ProposalDroppedError} when a local request cannot be served.
   */
  step(m: Message): void {
    if (!this.stepTerm(m)) return;
    switch (m.type) {
      case MessageType.MsgHup:
        hup(this, this.preVote ? 'pre-election' : 'election');
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        handleVoteRequest(this, m);
        return;
      default:
        this.stepFn(this, m);
    }
  }

  /** Term handling of {@link step}; returns false when the message is fully handled (dropped). */
  private stepTerm(m: Message): boolean {
    if (m.term === 0) return true; // local message
    if (m.term > this.term) return this.stepHigherTerm(m);
    if (m.term < this.term) {
      this.stepLowerTerm(m);
      return false;
    }
    return true;
  }

  private stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
      // Leader lease (thesis §4.2.3): while we heard from a leader within the minimum election
      // timeout, a vote request is from a disruptive node; ignore it without updating the term.
      // A transfer campaign is the leader's own wish and bypasses the lease.
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      if (!isCampaignTransfer(m) && inLease) {
        this.logger.info(
          `${this.hexId()} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${toHex(this.vote)}] ` +
            `ignored ${MessageType[m.type]} from ${toHex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
        );
        return false;
      }
    }
    if (m.type === MessageType.MsgPreVote) return true; // never change our term for a pre-vote
    // A granted pre-vote carries the future term we asked about; only a rejection moves us.
    if (m.type === MessageType.MsgPreVoteResp && !m.reject) return true;
    this.logger.info(
      `${this.hexId()} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${toHex(m.from)} [term: ${m.term}]`,
    );
    const fromLeader = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap;
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
      // A leader of an older term: we may have bumped our term while partitioned and can
      // never win (pre-vote/check-quorum keep us from disrupting). Tell it our term so one of
      // us can move on; without this the cluster could stay stuck (etcd-io/raft #5451).
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from }));
    } else if (m.type === MessageType.MsgPreVote) {
      // Reject stale pre-votes explicitly; silently dropping could deadlock a cluster that just
      // enabled pre-vote with a higher-term, less up-to-date candidate around.
      this.send(newMessage({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true }));
    } else {
      this.logger.info(
        `${this.hexId()} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${toHex(m.from)} [term: ${m.term}]`,
      );
    }
  }

  /** Ends a leadership transfer (completed, timed out, or superseded). */
  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Tells `to` to campaign immediately (leadership transfer, thesis §3.10). */
  sendTimeoutNow(to: bigint): void {
    this.send(newMessage({ type: MessageType.MsgTimeoutNow, to }));
  }

  /**
   * Accounts for newly appended leader entries against the uncommitted-size quota. Returns
   * false (and accounts nothing) when they would exceed it. An empty log always accepts one
   * entry, however large, so that progress is possible.
   */
  increaseUncommittedSize(ents: readonly Entry[]): boolean {
    const s = payloadsSize(ents);
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  /** Releases quota for entries that were handed out as committed. */
  reduceUncommittedSize(s: number): void {
    // The quota resets on term change, so entries from an earlier term may exceed it.
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  /** True when the commit index points at an entry of the current term (thesis §6.4). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }
}
