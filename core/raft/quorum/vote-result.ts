/**
 * Outcomes of counting votes, and the interface through which quorum arithmetic reads each
 * voter's acknowledged log index.
 */

/** The state of an election from one configuration's point of view. */
export enum VoteResult {
  /** Neither a quorum of yes nor enough no votes to rule one out: wait for more votes. */
  Pending = 1,
  /** A quorum can no longer be reached. */
  Lost = 2,
  /** A quorum voted yes. */
  Won = 3,
}

/**
 * Reads the highest log index a voter is known to have durably appended. Returns undefined for
 * a voter we know nothing about (treated as index 0 by the arithmetic).
 */
export interface AckedIndexer {
  ackedIndex(id: bigint): number | undefined;
}

/** An {@link AckedIndexer} over a plain map (tests, and ad-hoc computations). */
export function mapAckedIndexer(m: ReadonlyMap<bigint, number>): AckedIndexer {
  return { ackedIndex: (id) => m.get(id) };
}

/** Index meaning "no constraint": the committed index of an empty configuration. */
export const NO_CONSTRAINT_INDEX = Number.POSITIVE_INFINITY;
