/**
 * Raft's refusal of a proposal, as the etcd error a client sees (etcd.md §2.10: clients retry on
 * Unavailable).
 */
import { CoreError } from '../util/core-error';
import { ProposalDroppedError } from '../raft/errors';

/** The CoreError for `err` when Raft dropped the proposal; rethrows anything else. */
export function proposalError(err: unknown): CoreError {
  if (!(err instanceof ProposalDroppedError)) throw err;
  switch (err.reason) {
    case 'no-leader':
    case 'forwarding-disabled':
      return new CoreError('no-leader');
    case 'transfer-in-progress':
      return new CoreError('leader-changed');
    case 'uncommitted-size-limit':
      return new CoreError('too-many-requests');
    default:
      return new CoreError('not-capable', err.reason);
  }
}
