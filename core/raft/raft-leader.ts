/**
 * The leader's message handling: proposals, acknowledgements and flow control, heartbeats and
 * CheckQuorum, ReadIndex, snapshots status, and leadership transfer.
 */
import { assert } from '../util/assert';
import { toHex } from '../util/bigint';
import { decodeConfChange, decodeConfChangeV2 } from './codec';
import { DecodeError, ProposalDroppedError } from './errors';
import type { Raft } from './raft';
import { bcastAppend, bcastHeartbeat, bcastHeartbeatWithCtx, maybeCommit, maybeSendAppend, sendAppend, appendEntry } from './raft-replication';
import { VoteResult } from './quorum/vote-result';
import type { Progress } from './tracker/progress';
import { ProgressState } from './tracker/progress';
import {
  type ConfChangeV2,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  NONE,
  asConfChangeV2,
  newMessage,
} from './types';

/** Step function of the leader. Throws {@link ProposalDroppedError} for refused proposals. */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return;
    case MessageType.MsgCheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.MsgProp:
      handleProposal(r, m);
      return;
    case MessageType.MsgReadIndex:
      handleReadIndex(r, m);
      return;
    case MessageType.MsgForgetLeader:
      return; // a leader does not forget itself
    default:
      break;
  }
  // Everything else concerns a specific member.
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.logger.debug(`${r.hexId()} no progress available for ${toHex(m.from)}`);
    return;
  }
  switch (m.type) {
    case MessageType.MsgAppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.MsgHeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.MsgSnapStatus:
      handleSnapStatus(r, m, pr);
      return;
    case MessageType.MsgUnreachable:
      // In Replicate, an unreachable peer has most likely lost some MsgApp: probe again.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.logger.debug(`${r.hexId()} failed to send message to ${toHex(m.from)} because it is unreachable [${pr.toString()}]`);
      return;
    case MessageType.MsgTransferLeader:
      handleTransferLeader(r, m, pr);
      return;
    default:
      return;
  }
}

/** CheckQuorum (thesis §6.2): step down if a quorum was not heard from this election timeout. */
function checkQuorum(r: Raft): void {
  if (!r.trk.quorumActive()) {
    r.logger.warn(`${r.hexId()} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, NONE);
  }
  // Everyone but us must prove activity again during the next round.
  r.trk.visit((id, pr) => {
    if (id !== r.id) pr.recentActive = false;
  });
}

function handleProposal(r: Raft, m: Message): void {
  assert(m.entries.length > 0, `${r.hexId()} stepped empty MsgProp`);
  if (!r.trk.progress.has(r.id)) {
    // Removed from the configuration while leading: accept nothing new.
    throw new ProposalDroppedError('not-in-config');
  }
  if (r.leadTransferee !== NONE) {
    r.logger.debug(`${r.hexId()} [term ${r.term}] transfer leadership to ${toHex(r.leadTransferee)} is in progress; dropping proposal`);
    throw new ProposalDroppedError('transfer-in-progress');
  }
  const entries = m.entries.map((e, i) => vetConfChange(r, e, i));
  if (!appendEntry(r, entries)) throw new ProposalDroppedError('uncommitted-size-limit');
  bcastAppend(r);
}

/**
 * One conf change at a time: a conf change proposed while another is unapplied (or one that
 * does not fit the joint state) is replaced by an empty normal entry, so the proposal's
 * position is kept but it changes nothing (etcd-io/raft behaviour; the proposer learns of it
 * when the apply finds a no-op).
 */
function vetConfChange(r: Raft, e: Entry, i: number): Entry {
  if (e.type !== EntryType.ConfChange && e.type !== EntryType.ConfChangeV2) return e;
  let cc: ConfChangeV2;
  try {
    cc = e.type === EntryType.ConfChange ? asConfChangeV2(decodeConfChange(e.data)) : decodeConfChangeV2(e.data);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    r.logger.warn(`${r.hexId()} ignoring undecodable conf change proposal: ${err.message}`);
    return { ...e, type: EntryType.Normal, data: EMPTY_BYTES };
  }
  const alreadyPending = r.pendingConfIndex > r.raftLog.applied;
  const alreadyJoint = r.trk.config.voters.isJoint();
  const wantsLeaveJoint = cc.changes.length === 0;
  let failed = '';
  if (alreadyPending) failed = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
  else if (alreadyJoint && !wantsLeaveJoint) failed = 'must transition out of joint config first';
  else if (!alreadyJoint && wantsLeaveJoint) failed = 'not in joint state; refusing empty conf change';
  if (failed !== '') {
    r.logger.info(`${r.hexId()} ignoring conf change at config ${r.trk.config.toString()}: ${failed}`);
    return { ...e, type: EntryType.Normal, data: EMPTY_BYTES };
  }
  r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
  return e;
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    // Fast backoff: with the follower's hint (index, term), find our own last entry at or below
    // the hint whose term is ≤ the hinted term; the logs can only match at or below it.
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
    r.logger.debug(`${r.hexId()} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${toHex(m.from)} for index ${m.index}`);
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  // A probe answered at exactly the match point also moves the peer to Replicate (the
  // heartbeat-response probe of an up-to-date follower).
  const moved = pr.maybeUpdate(m.index);
  if (!moved && !(pr.match === m.index && pr.state === ProgressState.Probe)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The follower caught up (by the snapshot or otherwise) to where our log can take over.
    r.logger.debug(`${r.hexId()} recovered from needing snapshot, resumed sending replication messages to ${toHex(m.from)} [${pr.toString()}]`);
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  if (maybeCommit(r)) {
    // Reads that waited for a commit in this term may go now.
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (pr.canBumpCommit(r.raftLog.committed)) {
    // The follower may have missed the latest commit index while it was paused.
    sendAppend(r, m.from);
  }
  // Flow control may have opened up: send as many (non-empty) appends as it allows.
  for (let guard = 0; guard < r.trk.maxInflight + 1; guard++) {
    if (!maybeSendAppend(r, m.from, false)) break;
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${r.hexId()} sent MsgTimeoutNow to ${toHex(m.from)} after received MsgAppResp`);
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  // Behind, or still probing: send an append. When the inflights ring is full this is an empty
  // append, which lets a follower whose in-flight messages were all lost recover.
  if (pr.match < r.raftLog.lastIndex() || pr.state === ProgressState.Probe) sendAppend(r, m.from);
  if (r.readOnly.option !== 'safe' || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined || r.trk.config.voters.voteResult(acks) !== VoteResult.Won) return;
  for (const rs of r.readOnly.advance(m.context)) {
    respondToReadIndex(r, rs.req, rs.index);
  }
}

function handleSnapStatus(r: Raft, m: Message, pr: Progress): void {
  if (pr.state !== ProgressState.Snapshot) return;
  if (m.reject) {
    // Order matters: forget the pending snapshot first, or we would probe from its index
    // although the follower never applied it.
    pr.pendingSnapshot = 0;
    pr.becomeProbe();
    r.logger.debug(`${r.hexId()} snapshot failed, resumed sending replication messages to ${toHex(m.from)} [${pr.toString()}]`);
  } else {
    pr.becomeProbe();
    r.logger.debug(`${r.hexId()} snapshot succeeded, resumed sending replication messages to ${toHex(m.from)} [${pr.toString()}]`);
  }
  // After success wait for the follower's MsgAppResp; after failure wait a heartbeat interval.
  pr.msgAppFlowPaused = true;
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  const transferee = m.from;
  if (pr.isLearner) {
    r.logger.debug(`${r.hexId()} is learner. Ignored transferring leadership`);
    if (m.to === NONE) throw new ProposalDroppedError('transferee-not-voter'); // local request
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) {
      r.logger.info(`${r.hexId()} [term ${r.term}] transfer leadership to ${toHex(transferee)} is in progress, ignores request to same node`);
      return;
    }
    r.logger.info(`${r.hexId()} [term ${r.term}] abort previous transferring leadership to ${toHex(r.leadTransferee)}`);
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) {
    r.logger.debug(`${r.hexId()} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${r.hexId()} [term ${r.term}] starts to transfer leadership to ${toHex(transferee)}`);
  // The transfer must finish within one election timeout (thesis §3.10); tickHeartbeat aborts it.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    r.sendTimeoutNow(transferee);
    r.logger.info(`${r.hexId()} sends MsgTimeoutNow to ${toHex(transferee)} immediately as ${toHex(transferee)} already has up-to-date log`);
  } else {
    sendAppend(r, transferee);
  }
}

function handleReadIndex(r: Raft, m: Message): void {
  assert(m.entries.length === 1, 'MsgReadIndex must carry exactly one entry');
  if (r.trk.isSingleton()) {
    // We are the only voter: our commit index is authoritative without a round trip.
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  // Until an entry of this term commits, our commit index may lag the real one (thesis §6.4):
  // queue the request until then rather than answering with a stale index.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  sendReadIndexResponse(r, m);
}

function sendReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === 'safe') {
    const ctx = m.entries[0]!.data;
    r.readOnly.addRequest(r.raftLog.committed, m);
    // Our own acknowledgement; a single-voter group would be done here, but isSingleton
    // answered that case already.
    r.readOnly.recvAck(r.id, ctx);
    bcastHeartbeatWithCtx(r, ctx);
  } else {
    // Lease-based: trust that no other leader exists within the lease (needs CheckQuorum and
    // bounded clock drift).
    respondToReadIndex(r, m, r.raftLog.committed);
  }
}

/** Answers queued reads once this leader has committed an entry of its term. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) {
    r.logger.error('pending MsgReadIndex should be released only after first commit in current term');
    return;
  }
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendReadIndexResponse(r, m);
}

/** A local request becomes a ReadState; a forwarded one gets a MsgReadIndexResp. */
function respondToReadIndex(r: Raft, req: Message, index: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: req.entries[0]!.data });
    return;
  }
  r.send(newMessage({ type: MessageType.MsgReadIndexResp, to: req.from, index, entries: req.entries }));
}
