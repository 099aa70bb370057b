import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from '../../../../core/raft/raft-log';
import { MemoryRaftStorage } from '../../../../core/raft/memory-raft-storage';
import { CompactedError } from '../../../../core/raft/errors';
import { AssertionError } from '../../../../core/util/assert';
import { type Entry, EntryType } from '../../../../core/raft/types';
import { entrySize } from '../../../../core/raft/entry-size';

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) });
const ids = (ents: Entry[]) => ents.map((e) => `${e.term}/${e.index}`);

/** A log whose storage holds `stored` and whose unstable tail holds `unstable`. */
function makeLog(stored: Entry[], unstable: Entry[] = []): RaftLog {
  const s = new MemoryRaftStorage();
  s.append(stored);
  const log = new RaftLog(s);
  log.append(unstable);
  return log;
}

test('RaftLog.findConflict', () => {
  const base = [ent(1, 1), ent(2, 2), ent(3, 3)];
  const cases = [
    { name: 'no entries', ents: [], want: 0 },
    { name: 'all match', ents: [ent(1, 1), ent(2, 2), ent(3, 3)], want: 0 },
    { name: 'match then new', ents: [ent(2, 2), ent(3, 3), ent(4, 4)], want: 4 },
    { name: 'only new', ents: [ent(4, 4), ent(5, 4)], want: 4 },
    { name: 'conflict at first', ents: [ent(1, 4), ent(2, 4)], want: 1 },
    { name: 'conflict in the middle', ents: [ent(2, 1), ent(3, 4), ent(4, 4)], want: 2 },
    { name: 'conflict at last', ents: [ent(3, 1), ent(4, 2)], want: 3 },
  ];
  for (const c of cases) assert.equal(makeLog([], base).findConflict(c.ents), c.want, c.name);
});

test('RaftLog.findConflictByTerm', () => {
  // Log terms: index 1..6 → terms 1,1,2,2,4,4; storage snapshot at 0.
  const ents = [ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 4), ent(6, 4)];
  const cases = [
    { name: 'term above all: stays at index', index: 6, term: 5, want: { index: 6, term: 4 } },
    { name: 'skips higher-term tail', index: 6, term: 3, want: { index: 4, term: 2 } },
    { name: 'skips two terms', index: 6, term: 1, want: { index: 2, term: 1 } },
    { name: 'term 0 walks to 0', index: 6, term: 0, want: { index: 0, term: 0 } },
    { name: 'starting lower', index: 3, term: 2, want: { index: 3, term: 2 } },
  ];
  for (const c of cases) assert.deepEqual(makeLog(ents).findConflictByTerm(c.index, c.term), c.want, c.name);
});

test('RaftLog.findConflictByTerm: compacted index answers term 0', () => {
  const s = new MemoryRaftStorage();
  s.append([ent(1, 1), ent(2, 1), ent(3, 3), ent(4, 3)]);
  s.compact(2);
  const log = new RaftLog(s);
  assert.deepEqual(log.findConflictByTerm(4, 1), { index: 2, term: 1 }, 'index 2 is the compaction point (term known)');
  assert.deepEqual(log.findConflictByTerm(1, 1), { index: 1, term: 0 });
});

test('RaftLog.maybeAppend', () => {
  const base = [ent(1, 1), ent(2, 2), ent(3, 3)];
  const cases = [
    { name: 'mismatched term: rejected', index: 3, logTerm: 2, commit: 3, ents: [ent(4, 4)], want: undefined, log: ['1/1', '2/2', '3/3'], committed: 1 },
    { name: 'beyond last: rejected', index: 4, logTerm: 4, commit: 3, ents: [ent(5, 4)], want: undefined, log: ['1/1', '2/2', '3/3'], committed: 1 },
    { name: 'heartbeat-like, commit limited to last new', index: 2, logTerm: 2, commit: 3, ents: [], want: 2, log: ['1/1', '2/2', '3/3'], committed: 2 },
    { name: 'append new entries', index: 3, logTerm: 3, commit: 4, ents: [ent(4, 4), ent(5, 4)], want: 5, log: ['1/1', '2/2', '3/3', '4/4', '4/5'], committed: 4 },
    { name: 'overwrite an uncommitted conflict', index: 1, logTerm: 1, commit: 2, ents: [ent(2, 4), ent(3, 4)], want: 3, log: ['1/1', '4/2', '4/3'], committed: 2 },
    { name: 'duplicate entries change nothing', index: 1, logTerm: 1, commit: 1, ents: [ent(2, 2)], want: 2, log: ['1/1', '2/2', '3/3'], committed: 1 },
  ];
  for (const c of cases) {
    const log = makeLog([], base);
    log.commitTo(1);
    assert.equal(log.maybeAppend(c.index, c.logTerm, c.commit, c.ents), c.want, c.name);
    assert.deepEqual(ids(log.allEntries()), c.log, c.name);
    assert.equal(log.committed, c.committed, c.name);
  }
});

test('RaftLog.maybeAppend refuses to overwrite committed entries', () => {
  const log = makeLog([], [ent(1, 1), ent(2, 2), ent(3, 3)]);
  log.commitTo(3);
  assert.throws(() => log.maybeAppend(1, 1, 3, [ent(2, 4)]), AssertionError);
});

test('RaftLog.slice spans storage and unstable, honours maxSize, and reports compaction', () => {
  const s = new MemoryRaftStorage();
  s.append([ent(1, 1, 'aaaa'), ent(2, 1, 'bbbb'), ent(3, 1, 'cccc')]);
  s.compact(1);
  const log = new RaftLog(s);
  log.append([ent(4, 2, 'dddd'), ent(5, 2, 'eeee')]);
  const one = entrySize(ent(2, 1, 'bbbb'));
  const cases = [
    { name: 'across storage and unstable', lo: 2, hi: 6, max: Infinity, want: ['1/2', '1/3', '2/4', '2/5'] },
    { name: 'storage only', lo: 2, hi: 4, max: Infinity, want: ['1/2', '1/3'] },
    { name: 'unstable only', lo: 4, hi: 6, max: Infinity, want: ['2/4', '2/5'] },
    { name: 'limited to one entry', lo: 2, hi: 6, max: one, want: ['1/2'] },
    { name: 'limit zero still returns one', lo: 4, hi: 6, max: 0, want: ['2/4'] },
    { name: 'limit of three entries', lo: 2, hi: 6, max: one * 3, want: ['1/2', '1/3', '2/4'] },
    { name: 'empty range', lo: 3, hi: 3, max: Infinity, want: [] },
  ];
  for (const c of cases) assert.deepEqual(ids(log.slice(c.lo, c.hi, c.max)), c.want, c.name);
  assert.throws(() => log.slice(1, 3, Infinity), CompactedError);
  assert.throws(() => log.slice(2, 7, Infinity), AssertionError);
});

test('RaftLog: commit only entries of the current term; applied cursor', () => {
  const log = makeLog([], [ent(1, 1), ent(2, 1), ent(3, 2)]);
  assert.equal(log.maybeCommit(2, 2), false, 'entry 2 is from term 1');
  assert.equal(log.maybeCommit(3, 2), true);
  assert.equal(log.committed, 3);
  assert.deepEqual(ids(log.nextCommittedEntries()), ['1/1', '1/2', '2/3']);
  log.appliedTo(2);
  assert.deepEqual(ids(log.nextCommittedEntries()), ['2/3']);
  assert.throws(() => log.appliedTo(4), AssertionError);
  assert.throws(() => log.commitTo(9), AssertionError);
});

test('RaftLog: stableTo ignores a stale (index, term) after an overwrite', () => {
  const log = makeLog([], [ent(1, 1), ent(2, 1)]);
  log.append([ent(2, 2)]); // overwrite index 2 with a new term
  log.stableTo(2, 1); // the Ready that carried 1/2 is acknowledged late
  assert.deepEqual(ids(log.unstableEntries()), ['1/1', '2/2']);
  log.stableTo(2, 2);
  assert.deepEqual(ids(log.unstableEntries()), []);
});

test('RaftLog.isUpToDate (election restriction)', () => {
  const log = makeLog([], [ent(1, 1), ent(2, 2), ent(3, 2)]);
  const cases = [
    { name: 'higher term wins regardless of length', lasti: 1, term: 3, want: true },
    { name: 'same term, longer', lasti: 4, term: 2, want: true },
    { name: 'same term, same length', lasti: 3, term: 2, want: true },
    { name: 'same term, shorter', lasti: 2, term: 2, want: false },
    { name: 'lower term, longer', lasti: 9, term: 1, want: false },
  ];
  for (const c of cases) assert.equal(log.isUpToDate(c.lasti, c.term), c.want, c.name);
});

test('RaftLog.restore replaces the log with a snapshot', () => {
  const log = makeLog([], [ent(1, 1), ent(2, 1)]);
  log.restore({ data: new Uint8Array(0), metadata: { index: 10, term: 3, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } });
  assert.equal(log.committed, 10);
  assert.equal(log.firstIndex(), 11);
  assert.equal(log.lastIndex(), 10);
  assert.equal(log.term(10), 3);
  assert.equal(log.hasPendingSnapshot(), true);
});
