/**
 * Message handling of followers (and learners, which are followers that never campaign).
 */
import { toHex } from '../util/bigint';
import { ProposalDroppedError } from './errors';
import type { Raft } from './raft';
import { hup } from './raft-election';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './raft-replication';
import { type Message, MessageType, NONE } from './types';

/**
 * Step function of followers. Local proposals, reads and transfer requests are forwarded to the
 * leader; without a known leader they throw {@link ProposalDroppedError}. Forwarded requests
 * from other nodes that cannot be served are dropped (their sender times out).
 */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === NONE) {
        r.logger.info(`${r.hexId()} no leader at term ${r.term}; dropping proposal`);
        throw new ProposalDroppedError('no-leader');
      }
      if (r.disableProposalForwarding) {
        r.logger.info(`${r.hexId()} not forwarding to leader ${toHex(r.lead)} at term ${r.term}; dropping proposal`);
        throw new ProposalDroppedError('forwarding-disabled');
      }
      forward(r, m);
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case MessageType.MsgTransferLeader:
      if (r.lead === NONE) {
        r.logger.info(`${r.hexId()} no leader at term ${r.term}; dropping leader transfer msg`);
        if (m.to === NONE) throw new ProposalDroppedError('no-leader'); // local request
        return;
      }
      forward(r, m);
      return;
    case MessageType.MsgForgetLeader:
      forgetLeader(r);
      return;
    case MessageType.MsgTimeoutNow:
      // A transfer campaign skips pre-vote: the old leader asked for it, there is no partition
      // to guard against.
      r.logger.info(`${r.hexId()} [term ${r.term}] received MsgTimeoutNow from ${toHex(m.from)} and starts an election to get leadership.`);
      hup(r, 'transfer');
      return;
    case MessageType.MsgReadIndex:
      if (r.lead === NONE) {
        r.logger.info(`${r.hexId()} no leader at term ${r.term}; dropping index reading msg`);
        throw new ProposalDroppedError('no-leader');
      }
      forward(r, m);
      return;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.error(`${r.hexId()} invalid format of MsgReadIndexResp from ${toHex(m.from)}, entries count: ${m.entries.length}`);
        return;
      }
      r.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
      return;
    default:
      return;
  }
}

/**
 * Forgetting the leader lets this node grant votes right away (e.g. the application knows the
 * leader is gone). Unsafe with lease-based reads, which rely on the lease.
 */
function forgetLeader(r: Raft): void {
  if (r.readOnly.option === 'lease-based') {
    r.logger.error('ignoring MsgForgetLeader due to ReadOnlyLeaseBased');
    return;
  }
  if (r.lead !== NONE) {
    r.logger.info(`${r.hexId()} forgetting leader ${toHex(r.lead)} at term ${r.term}`);
    r.lead = NONE;
  }
}

/** Re-addresses a request to the leader. The message keeps its origin in `from`. */
function forward(r: Raft, m: Message): void {
  r.send({ ...m, to: r.lead });
}
