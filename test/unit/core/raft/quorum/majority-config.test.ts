import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MajorityConfig } from '../../../../../core/raft/quorum/majority-config';
import { JointConfig } from '../../../../../core/raft/quorum/joint-config';
import { VoteResult, mapAckedIndexer } from '../../../../../core/raft/quorum/vote-result';

const acked = (m: Record<string, number>) => mapAckedIndexer(new Map(Object.entries(m).map(([k, v]) => [BigInt(k), v])));
const votes = (m: Record<string, boolean>) => new Map(Object.entries(m).map(([k, v]) => [BigInt(k), v]));

const committedCases: Array<{ name: string; voters: number[]; acked: Record<string, number>; want: number }> = [
  { name: 'empty config imposes no constraint', voters: [], acked: {}, want: Infinity },
  { name: 'single voter, nothing acked', voters: [1], acked: {}, want: 0 },
  { name: 'single voter acked', voters: [1], acked: { 1: 12 }, want: 12 },
  { name: 'two voters need both', voters: [1, 2], acked: { 1: 12, 2: 5 }, want: 5 },
  { name: 'two voters, one unknown', voters: [1, 2], acked: { 1: 12 }, want: 0 },
  { name: 'three voters, median', voters: [1, 2, 3], acked: { 1: 10, 2: 5, 3: 7 }, want: 7 },
  { name: 'three voters, one missing', voters: [1, 2, 3], acked: { 1: 10, 3: 7 }, want: 7 },
  { name: 'three voters, two missing', voters: [1, 2, 3], acked: { 1: 10 }, want: 0 },
  { name: 'four voters need three', voters: [1, 2, 3, 4], acked: { 1: 10, 2: 9, 3: 3, 4: 1 }, want: 3 },
  { name: 'five voters need three', voters: [1, 2, 3, 4, 5], acked: { 1: 10, 2: 9, 3: 8, 4: 1, 5: 1 }, want: 8 },
  { name: 'acks of non-voters are ignored', voters: [1, 2, 3], acked: { 1: 10, 4: 99, 5: 99 }, want: 0 },
];

for (const c of committedCases) {
  test(`MajorityConfig.committedIndex: ${c.name}`, () => {
    assert.equal(new MajorityConfig(c.voters.map(BigInt)).committedIndex(acked(c.acked)), c.want);
  });
}

const voteCases: Array<{ name: string; voters: number[]; votes: Record<string, boolean>; want: VoteResult }> = [
  { name: 'empty config wins', voters: [], votes: {}, want: VoteResult.Won },
  { name: 'single voter pending', voters: [1], votes: {}, want: VoteResult.Pending },
  { name: 'single voter yes', voters: [1], votes: { 1: true }, want: VoteResult.Won },
  { name: 'single voter no', voters: [1], votes: { 1: false }, want: VoteResult.Lost },
  { name: 'three voters one yes pending', voters: [1, 2, 3], votes: { 1: true }, want: VoteResult.Pending },
  { name: 'three voters two yes', voters: [1, 2, 3], votes: { 1: true, 2: true }, want: VoteResult.Won },
  { name: 'three voters two no', voters: [1, 2, 3], votes: { 1: true, 2: false, 3: false }, want: VoteResult.Lost },
  { name: 'three voters split with missing', voters: [1, 2, 3], votes: { 1: true, 2: false }, want: VoteResult.Pending },
  { name: 'four voters two yes two missing', voters: [1, 2, 3, 4], votes: { 1: true, 2: true }, want: VoteResult.Pending },
  { name: 'four voters two yes two no', voters: [1, 2, 3, 4], votes: { 1: true, 2: true, 3: false, 4: false }, want: VoteResult.Lost },
  { name: 'votes of non-voters are ignored', voters: [1, 2, 3], votes: { 1: true, 7: true, 8: true }, want: VoteResult.Pending },
];

for (const c of voteCases) {
  test(`MajorityConfig.voteResult: ${c.name}`, () => {
    assert.equal(new MajorityConfig(c.voters.map(BigInt)).voteResult(votes(c.votes)), c.want);
  });
}

const jointCases: Array<{ name: string; incoming: number[]; outgoing: number[]; acked: Record<string, number>; votes: Record<string, boolean>; committed: number; result: VoteResult }> = [
  { name: 'non-joint behaves like majority', incoming: [1, 2, 3], outgoing: [], acked: { 1: 5, 2: 4, 3: 3 }, votes: { 1: true, 2: true }, committed: 4, result: VoteResult.Won },
  { name: 'joint takes the minimum of both halves', incoming: [1, 2, 3], outgoing: [3, 4, 5], acked: { 1: 9, 2: 9, 3: 2, 4: 1, 5: 1 }, votes: { 1: true, 2: true }, committed: 1, result: VoteResult.Pending },
  { name: 'joint needs both majorities to win', incoming: [1, 2, 3], outgoing: [3, 4, 5], acked: { 1: 9, 2: 9, 3: 8, 4: 7, 5: 1 }, votes: { 1: true, 2: true, 3: true, 4: true }, committed: 7, result: VoteResult.Won },
  { name: 'joint lost if either half lost', incoming: [1, 2, 3], outgoing: [3, 4, 5], acked: {}, votes: { 1: true, 2: true, 4: false, 5: false }, committed: 0, result: VoteResult.Lost },
  { name: 'identical halves', incoming: [1, 2], outgoing: [1, 2], acked: { 1: 3, 2: 4 }, votes: { 1: true, 2: true }, committed: 3, result: VoteResult.Won },
];

for (const c of jointCases) {
  test(`JointConfig: ${c.name}`, () => {
    const j = new JointConfig(new MajorityConfig(c.incoming.map(BigInt)), new MajorityConfig(c.outgoing.map(BigInt)));
    assert.equal(j.committedIndex(acked(c.acked)), c.committed);
    assert.equal(j.voteResult(votes(c.votes)), c.result);
  });
}

test('JointConfig.toString renders both halves', () => {
  const j = new JointConfig(new MajorityConfig([3n, 1n]), new MajorityConfig([2n]));
  assert.equal(j.toString(), '(1 3)&&(2)');
  assert.equal(new JointConfig(new MajorityConfig([1n])).toString(), '(1)');
});
