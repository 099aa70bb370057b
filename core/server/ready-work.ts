/**
 * What one Ready carries through the driver's pipeline (raft-driver.ts) between being queued and
 * becoming durable: the apply outcomes to answer, the revision and applied index it leaves, its
 * read states and conf changes; and whether a Ready needs a write at all.
 */
import { ConfChange, ReadState } from '../raft/types';
import { Ready } from '../raft/ready';
import { CoreError } from '../util/core-error';
import { ApplyRequest } from '../apply/apply-request';
import { ApplyOutcome } from '../apply/applier';

/** The work that waits for one queued Ready's transaction to become durable. */
export interface InFlight {
  outcomes: Array<{ req: ApplyRequest; outcome: ApplyOutcome }>;
  /** The store's current revision after this transaction's applies. */
  revision: number;
  /** The applied index after this transaction. */
  applied: number;
  readStates: ReadState[];
  /** Conf changes applied by this transaction, with their apply-time error. */
  confChanges: Array<{ cc: ConfChange; error?: CoreError }>;
}

/** `applied` and `revision` of a Ready that applied nothing: they stay as the last write left them. */
export const UNCHANGED = -1;

/** Marks `work` as applying nothing. */
export function markUnchanged(work: InFlight): void {
  work.revision = UNCHANGED;
  work.applied = UNCHANGED;
}

/** True when a Ready has something for the disk (entries, hard state, applies, a snapshot). */
export function needsWrite(rd: Ready): boolean {
  return rd.entries.length > 0 || rd.hardState !== undefined || rd.committedEntries.length > 0 || rd.snapshot !== undefined;
}
