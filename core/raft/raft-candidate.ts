/**
 * Message handling of candidates and pre-candidates (Raft thesis §3.4, §9.6).
 */
import { toHex } from '../util/bigint';
import { ProposalDroppedError } from './errors';
import type { Raft } from './raft';
import { campaign, poll } from './raft-election';
import { bcastAppend, handleAppendEntries, handleHeartbeat, handleSnapshot } from './raft-replication';
import { VoteResult } from './quorum/vote-result';
import { type Message, MessageType, NONE, StateType } from './types';

/**
 * Step function of candidates and pre-candidates. Any append, heartbeat or snapshot at our term
 * means another node already won this term: follow it. Throws {@link ProposalDroppedError} for
 * proposals and reads (there is no leader to take them).
 */
export function stepCandidate(r: Raft, m: Message): void {
  // Only count answers to our current kind of campaign: a candidate may still receive
  // pre-vote answers from its pre-candidate phase in the same term.
  const myVoteResp = r.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      r.logger.info(`${r.hexId()} no leader at term ${r.term}; dropping proposal`);
      throw new ProposalDroppedError('no-leader');
    case MessageType.MsgReadIndex:
      throw new ProposalDroppedError('no-leader');
    case MessageType.MsgTransferLeader:
      if (m.to === NONE) throw new ProposalDroppedError('no-leader'); // local request
      return;
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from); // m.term === r.term here
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp: {
      const { granted, rejected, result } = poll(r, m.from, m.type, !m.reject);
      r.logger.info(`${r.hexId()} has received ${granted} ${MessageType[m.type]} votes and ${rejected} vote rejections`);
      if (result === VoteResult.Won) {
        if (r.state === StateType.PreCandidate) {
          campaign(r, 'election');
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (result === VoteResult.Lost) {
        // A pre-vote answer carries our future term; stay at ours.
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    case MessageType.MsgTimeoutNow:
      r.logger.debug(`${r.hexId()} [term ${r.term} state ${StateType[r.state]}] ignored MsgTimeoutNow from ${toHex(m.from)}`);
      return;
    default:
      return;
  }
}
