import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Changer, type ChangeResult } from '../../../../../core/raft/confchange/changer';
import { restoreConfState } from '../../../../../core/raft/confchange/restore';
import { ConfChangeError } from '../../../../../core/raft/errors';
import { ProgressTracker } from '../../../../../core/raft/tracker/progress-tracker';
import { type ConfChangeSingle, ConfChangeType, type ConfState } from '../../../../../core/raft/types';

/** Parses `v1 l2 r3 u4`. */
function ccs(s: string): ConfChangeSingle[] {
  const kinds: Record<string, ConfChangeType> = { v: ConfChangeType.AddNode, l: ConfChangeType.AddLearnerNode, r: ConfChangeType.RemoveNode, u: ConfChangeType.UpdateNode };
  return s.split(' ').filter(Boolean).map((t) => ({ type: kinds[t[0]!]!, nodeId: BigInt(t.slice(1)) }));
}

function empty(): ChangeResult {
  const t = new ProgressTracker(10, 0);
  return { config: t.config, progress: t.progress };
}

/** Applies a sequence of operations, returning the final rendering or the first error. */
function run(ops: Array<(c: Changer) => ChangeResult>): string {
  let state = empty();
  try {
    for (const op of ops) state = op(new Changer({ ...state, maxInflight: 10, maxInflightBytes: 0 }, 10));
  } catch (e) {
    if (e instanceof ConfChangeError) return `error: ${e.message}`;
    throw e;
  }
  return state.config.toString();
}

const simple = (s: string) => (c: Changer) => c.simple(ccs(s));
const joint = (s: string, auto = false) => (c: Changer) => c.enterJoint(auto, ccs(s));
const leave = () => (c: Changer) => c.leaveJoint();

test('Changer', () => {
  const cases: Array<{ name: string; ops: Array<(c: Changer) => ChangeResult>; want: string }> = [
    { name: 'add one voter', ops: [simple('v1')], want: 'voters=(1)' },
    { name: 'add voters one at a time', ops: [simple('v1'), simple('v2'), simple('v3')], want: 'voters=(1 2 3)' },
    { name: 'two voters at once is refused', ops: [simple('v1'), simple('v2 v3')], want: 'error: more than one voter changed without entering joint config' },
    { name: 'voter and learner at once is fine', ops: [simple('v1'), simple('v2 l3')], want: 'voters=(1 2) learners=(3)' },
    { name: 'promote learner', ops: [simple('v1'), simple('l2'), simple('v2')], want: 'voters=(1 2)' },
    { name: 'demote voter to learner', ops: [simple('v1'), simple('v2'), simple('l2')], want: 'voters=(1) learners=(2)' },
    { name: 'remove the last voter is refused', ops: [simple('v1'), simple('r1')], want: 'error: removed all voters' },
    { name: 'remove unknown node is a no-op', ops: [simple('v1'), simple('r7')], want: 'voters=(1)' },
    { name: 'node id 0 is ignored', ops: [simple('v1'), simple('v0')], want: 'voters=(1)' },
    { name: 'enter joint replacing two voters', ops: [simple('v1'), simple('v2'), simple('v3'), joint('v4 v5 r2 r3', true)], want: 'voters=(1 4 5)&&(1 2 3) autoleave' },
    { name: 'demotion in joint goes through learners_next', ops: [simple('v1'), simple('v2'), joint('l2 v3')], want: 'voters=(1 3)&&(1 2) learners_next=(2)' },
    { name: 'leave joint turns learners_next into learners', ops: [simple('v1'), simple('v2'), joint('l2 v3'), leave()], want: 'voters=(1 3) learners=(2)' },
    { name: 'cannot enter joint twice', ops: [simple('v1'), joint('v2'), joint('v3')], want: 'error: config is already joint' },
    { name: 'cannot leave a non-joint config', ops: [simple('v1'), leave()], want: "error: can't leave a non-joint config" },
    { name: 'simple change refused while joint', ops: [simple('v1'), joint('v2'), simple('v3')], want: "error: can't apply simple config change in joint config" },
    { name: 'zero-voter config cannot go joint', ops: [joint('v1')], want: "error: can't make a zero-voter config joint" },
  ];
  for (const c of cases) assert.equal(run(c.ops), c.want, c.name);
});

test('Changer does not modify its input', () => {
  const base = new Changer({ ...empty(), maxInflight: 10, maxInflightBytes: 0 }, 10).simple(ccs('v1'));
  const before = base.config.toString();
  assert.throws(() => new Changer({ ...base, maxInflight: 10, maxInflightBytes: 0 }, 10).simple(ccs('v2 v3')), ConfChangeError);
  new Changer({ ...base, maxInflight: 10, maxInflightBytes: 0 }, 10).simple(ccs('v2'));
  assert.equal(base.config.toString(), before);
  assert.deepEqual([...base.progress.keys()], [1n]);
});

test('restoreConfState round-trips ConfStates', () => {
  const states: ConfState[] = [
    { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false },
    { voters: [1n, 2n], learners: [5n], votersOutgoing: [], learnersNext: [], autoLeave: false },
    { voters: [1n, 2n, 3n], learners: [5n], votersOutgoing: [1n, 2n, 4n, 6n], learnersNext: [4n], autoLeave: false },
    { voters: [1n, 4n, 5n], learners: [], votersOutgoing: [1n, 2n, 3n], learnersNext: [], autoLeave: true },
  ];
  for (const cs of states) {
    const r = restoreConfState(cs, 10, 10, 0);
    assert.deepEqual(r.config.toConfState(), cs);
    assert.equal(r.progress.size, new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]).size);
  }
  assert.throws(() => restoreConfState({ voters: [1n], learners: [1n], votersOutgoing: [], learnersNext: [], autoLeave: false }, 1, 1, 0), ConfChangeError);
});
