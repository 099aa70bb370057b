/**
 * The two ways a WAL refuses to go on. Both are fatal for the member: the operator must look at
 * the disk (corruption) or restart the process (a failed write or sync), never retry in place.
 */

/**
 * Damage that is not a torn tail: a bad record in a segment that is not the last one, a segment
 * missing from the sequence, a header that does not chain to its predecessor, or a record whose
 * checksum is valid but whose content is not. Names the file and byte offset.
 */
export class WalCorruptionError extends Error {
  constructor(
    /** The segment file. */
    readonly file: string,
    /** Byte offset of the damaged record in that file. */
    readonly offset: number,
    reason: string,
  ) {
    super(`wal: corrupt segment ${file} at offset ${offset}: ${reason}`);
    this.name = 'WalCorruptionError';
  }
}

/**
 * A write or fdatasync failed. After a failed fsync the kernel may have dropped the dirty pages
 * and cleared the error (the 2018 "fsyncgate" lesson: a retried fsync can report success for data
 * that is gone), so the WAL is poisoned: every waiting and every later append rejects with this.
 */
export class WalFailedError extends Error {
  constructor(readonly cause: unknown) {
    super(`wal: failed, no further appends: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'WalFailedError';
  }
}
