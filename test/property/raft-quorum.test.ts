/**
 * Quorum arithmetic against a naive model (after etcd-io/raft quorum/quick_test.go): the
 * committed index is the largest index that at least a majority has acknowledged; a vote is
 * won with a majority of yes, lost once a majority is impossible.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { MajorityConfig } from '../../core/raft/quorum/majority-config';
import { JointConfig } from '../../core/raft/quorum/joint-config';
import { VoteResult, mapAckedIndexer } from '../../core/raft/quorum/vote-result';

const RUNS = 2000;

/** Voter ids (small, possibly overlapping between halves) and acks for some of them. */
const idsArb = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 9 }).map((a) => a.map(BigInt));
const acksArb = fc.dictionary(fc.integer({ min: 1, max: 12 }).map(String), fc.integer({ min: 0, max: 50 }));
const votesArb = fc.dictionary(fc.integer({ min: 1, max: 12 }).map(String), fc.boolean());

function naiveCommitted(voters: bigint[], acked: Map<bigint, number>): number {
  if (voters.length === 0) return Infinity;
  const q = Math.floor(voters.length / 2) + 1;
  let best = 0;
  for (const candidate of [0, ...acked.values()]) {
    const n = voters.filter((id) => (acked.get(id) ?? 0) >= candidate).length;
    if (n >= q && candidate > best) best = candidate;
  }
  return best;
}

function naiveVote(voters: bigint[], votes: Map<bigint, boolean>): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  const q = Math.floor(voters.length / 2) + 1;
  const yes = voters.filter((id) => votes.get(id) === true).length;
  const no = voters.filter((id) => votes.get(id) === false).length;
  if (yes >= q) return VoteResult.Won;
  if (voters.length - no >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

const toAcks = (d: Record<string, number>) => new Map(Object.entries(d).map(([k, v]) => [BigInt(k), v]));
const toVotes = (d: Record<string, boolean>) => new Map(Object.entries(d).map(([k, v]) => [BigInt(k), v]));

test('property: majority committed index equals the naive model', () => {
  fc.assert(
    fc.property(idsArb, acksArb, (voters, acks) => {
      const acked = toAcks(acks);
      assert.equal(new MajorityConfig(voters).committedIndex(mapAckedIndexer(acked)), naiveCommitted(voters, acked));
    }),
    { numRuns: RUNS },
  );
});

test('property: majority vote result equals the naive model', () => {
  fc.assert(
    fc.property(idsArb, votesArb, (voters, v) => {
      const votes = toVotes(v);
      assert.equal(new MajorityConfig(voters).voteResult(votes), naiveVote(voters, votes));
    }),
    { numRuns: RUNS },
  );
});

test('property: joint committed index is the largest index both halves committed', () => {
  fc.assert(
    fc.property(idsArb, idsArb, acksArb, (incoming, outgoing, acks) => {
      const acked = toAcks(acks);
      const joint = new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));
      // Naive: scan candidate indexes for one committed by both.
      let want = incoming.length === 0 && outgoing.length === 0 ? Infinity : 0;
      if (want !== Infinity) {
        for (const c of [0, ...acked.values()]) {
          if (naiveCommitted(incoming, acked) >= c && naiveCommitted(outgoing, acked) >= c && c > want) want = c;
        }
        if (incoming.length === 0) want = naiveCommitted(outgoing, acked);
        if (outgoing.length === 0) want = naiveCommitted(incoming, acked);
      }
      assert.equal(joint.committedIndex(mapAckedIndexer(acked)), want);
    }),
    { numRuns: RUNS },
  );
});

test('property: joint vote is won iff both halves win, lost iff either loses', () => {
  fc.assert(
    fc.property(idsArb, idsArb, votesArb, (incoming, outgoing, v) => {
      const votes = toVotes(v);
      const a = naiveVote(incoming, votes);
      const b = naiveVote(outgoing, votes);
      const want = a === VoteResult.Won && b === VoteResult.Won ? VoteResult.Won : a === VoteResult.Lost || b === VoteResult.Lost ? VoteResult.Lost : VoteResult.Pending;
      assert.equal(new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)).voteResult(votes), want);
    }),
    { numRuns: RUNS },
  );
});

test('property: committed index never decreases when acks grow', () => {
  fc.assert(
    fc.property(idsArb, acksArb, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 20 }), (voters, acks, who, bump) => {
      const before = toAcks(acks);
      const after = new Map(before);
      after.set(BigInt(who), (before.get(BigInt(who)) ?? 0) + bump);
      const c = new MajorityConfig(voters);
      assert.ok(c.committedIndex(mapAckedIndexer(after)) >= c.committedIndex(mapAckedIndexer(before)));
    }),
    { numRuns: RUNS },
  );
});
