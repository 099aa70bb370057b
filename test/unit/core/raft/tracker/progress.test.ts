import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, ProgressState } from '../../../../../core/raft/tracker/progress';
import { Inflights } from '../../../../../core/raft/tracker/inflights';

function pr(match: number, next: number, state = ProgressState.Probe): Progress {
  const p = new Progress({ match, next, inflights: new Inflights(2), isLearner: false });
  if (state === ProgressState.Replicate) {
    p.becomeReplicate();
    p.next = next;
  }
  if (state === ProgressState.Snapshot) p.becomeSnapshot(next);
  return p;
}

test('Progress.maybeDecrTo', () => {
  const cases = [
    { name: 'replicate: stale rejection', p: pr(5, 10, ProgressState.Replicate), rejected: 5, hint: 0, ok: false, next: 10 },
    { name: 'replicate: real rejection resets to match+1', p: pr(5, 10, ProgressState.Replicate), rejected: 9, hint: 9, ok: true, next: 6 },
    { name: 'probe: stale (not next-1)', p: pr(0, 10), rejected: 5, hint: 5, ok: false, next: 10 },
    { name: 'probe: hint moves next back', p: pr(0, 10), rejected: 9, hint: 3, ok: true, next: 4 },
    { name: 'probe: hint above rejected is capped', p: pr(0, 10), rejected: 9, hint: 20, ok: true, next: 9 },
    { name: 'probe: never below match+1', p: pr(4, 10), rejected: 9, hint: 0, ok: true, next: 5 },
    { name: 'probe: never below 1', p: pr(0, 2), rejected: 1, hint: 0, ok: true, next: 1 },
  ];
  for (const c of cases) {
    assert.equal(c.p.maybeDecrTo(c.rejected, c.hint), c.ok, c.name);
    assert.equal(c.p.next, c.next, c.name);
  }
});

test('Progress.maybeUpdate', () => {
  const cases = [
    { name: 'advances match and next', match: 3, next: 5, n: 7, ok: true, wantMatch: 7, wantNext: 8 },
    { name: 'keeps an optimistic next', match: 3, next: 10, n: 5, ok: true, wantMatch: 5, wantNext: 10 },
    { name: 'stale ack', match: 3, next: 5, n: 2, ok: false, wantMatch: 3, wantNext: 5 },
    { name: 'equal ack is not an update', match: 3, next: 5, n: 3, ok: false, wantMatch: 3, wantNext: 5 },
  ];
  for (const c of cases) {
    const p = pr(c.match, c.next);
    assert.equal(p.maybeUpdate(c.n), c.ok, c.name);
    assert.equal(p.match, c.wantMatch, c.name);
    assert.equal(p.next, c.wantNext, c.name);
  }
});

test('Progress: state transitions and pausing', () => {
  const p = pr(3, 4);
  assert.equal(p.isPaused(), false);
  p.sentEntries(2, 10); // probe: one message in flight pauses it
  assert.equal(p.isPaused(), true);
  p.maybeUpdate(5);
  assert.equal(p.isPaused(), false);
  p.becomeReplicate();
  assert.equal(p.next, 6);
  p.sentEntries(1, 10);
  p.sentEntries(1, 10);
  assert.equal(p.next, 8);
  assert.equal(p.isPaused(), true, 'inflights (2) full');
  p.becomeSnapshot(20);
  assert.equal(p.isPaused(), true);
  p.becomeProbe();
  assert.equal(p.state, ProgressState.Probe);
  assert.equal(p.next, 21, 'probe resumes after the pending snapshot');
});

test('Progress.canBumpCommit', () => {
  const p = pr(5, 8);
  p.sentCommitIndex(3);
  assert.equal(p.canBumpCommit(6), true);
  assert.equal(p.canBumpCommit(3), false);
  p.sentCommitIndex(7);
  assert.equal(p.canBumpCommit(9), false, 'already sent a commit covering next-1');
});
