/**
 * Elections (Raft thesis §3.4, §9.6): starting a campaign, granting votes, and counting them.
 */
import { assert } from '../util/assert';
import { toHex } from '../util/bigint';
import type { Raft } from './raft';
import { VoteResult } from './quorum/vote-result';
import { EMPTY_BYTES, EntryType, type Message, MessageType, NONE, StateType, newMessage, voteResponseType } from './types';

/** Why a node campaigns. */
export type CampaignType = 'pre-election' | 'election' | 'transfer';

/**
 * The context a transfer campaign carries in its MsgVote, so that voters bypass the leader
 * lease (etcd-io/raft uses the bytes of the string "CampaignTransfer").
 */
export const CAMPAIGN_TRANSFER: Uint8Array = Uint8Array.from('CampaignTransfer', (c) => c.charCodeAt(0));

/** True when `m` is a vote request of a leadership-transfer campaign. */
export function isCampaignTransfer(m: Message): boolean {
  const c = m.context;
  if (c.length !== CAMPAIGN_TRANSFER.length) return false;
  for (let i = 0; i < c.length; i++) if (c[i] !== CAMPAIGN_TRANSFER[i]) return false;
  return true;
}

/**
 * Starts an election if this node may: it is not leader, it is a voter, and no committed conf
 * change is waiting to be applied (campaigning under a stale configuration could elect a
 * leader the new configuration does not support; etcd-io/raft hup()).
 */
export function hup(r: Raft, t: CampaignType): void {
  if (r.state === StateType.Leader) {
    r.logger.debug(`${r.hexId()} ignoring MsgHup because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn(`${r.hexId()} is unpromotable and can not campaign`);
    return;
  }
  if (hasUnappliedConfChanges(r)) {
    r.logger.warn(`${r.hexId()} cannot campaign at term ${r.term} since there are still pending configuration changes to apply`);
    return;
  }
  r.logger.info(`${r.hexId()} is starting a new election at term ${r.term}`);
  campaign(r, t);
}

function hasUnappliedConfChanges(r: Raft): boolean {
  const log = r.raftLog;
  if (log.applied >= log.committed) return false;
  // Page through the unapplied committed entries to bound memory (the same budget as a Ready).
  let lo = Math.max(log.applied + 1, log.firstIndex());
  const hi = log.committed + 1;
  while (lo < hi) {
    const page = log.slice(lo, hi, log.maxNextEntsSize);
    assert(page.length > 0, 'empty page while scanning unapplied entries');
    for (const e of page) {
      if (e.type === EntryType.ConfChange || e.type === EntryType.ConfChangeV2) return true;
    }
    lo = page[page.length - 1]!.index + 1;
  }
  return false;
}

/**
 * Becomes (pre-)candidate and asks every voter for its vote. Our own vote counts at once; a
 * single voter therefore wins immediately. A pre-vote asks about term+1 without taking it.
 */
export function campaign(r: Raft, t: CampaignType): void {
  let term: number;
  let voteMsg: MessageType;
  if (t === 'pre-election') {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  const { result } = poll(r, r.id, voteResponseType(voteMsg), true);
  if (result === VoteResult.Won) {
    if (t === 'pre-election') campaign(r, 'election');
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.trk.voterNodes()) {
    if (id === r.id) continue;
    r.logger.info(
      `${r.hexId()} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteMsg]} request to ${toHex(id)} at term ${r.term}`,
    );
    const context = t === 'transfer' ? CAMPAIGN_TRANSFER : EMPTY_BYTES;
    r.send(newMessage({ type: voteMsg, to: id, term, index: lastIndex, logTerm: lastTerm, context }));
  }
}

/** Records a vote and returns the tally. */
export function poll(r: Raft, id: bigint, t: MessageType, granted: boolean): { granted: number; rejected: number; result: VoteResult } {
  if (granted) r.logger.info(`${r.hexId()} received ${MessageType[t]} from ${toHex(id)} at term ${r.term}`);
  else r.logger.info(`${r.hexId()} received ${MessageType[t]} rejection from ${toHex(id)} at term ${r.term}`);
  r.trk.recordVote(id, granted);
  return r.trk.tallyVotes();
}

/**
 * Answers MsgVote/MsgPreVote (the term was already reconciled by `Raft.step`). We grant when we
 * can vote — we already voted for this candidate, or have voted for no one and know no leader
 * this term, or it is a pre-vote for a future term — and the candidate's log is at least as
 * up to date as ours (election restriction, thesis §3.6.1).
 *
 * Learners answer too: a learner that was promoted but has not applied the promotion yet may be
 * needed for a quorum (etcd-io/etcd#7625 discussion).
 */
export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.MsgPreVote && m.term > r.term);
  const respType = voteResponseType(m.type);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.logger.info(
      `${r.hexId()} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${toHex(r.vote)}] cast ${MessageType[m.type]} for ${toHex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    // Answer with the request's term, not ours: for a pre-vote our term may be stale, and the
    // pre-candidate would otherwise ignore a vote that is in fact valid.
    r.send(newMessage({ type: respType, to: m.from, term: m.term }));
    if (m.type === MessageType.MsgVote) {
      // Only real votes are recorded (and must be durable before the response is sent).
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info(
      `${r.hexId()} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${toHex(r.vote)}] rejected ${MessageType[m.type]} from ${toHex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    r.send(newMessage({ type: respType, to: m.from, term: r.term, reject: true }));
  }
}
