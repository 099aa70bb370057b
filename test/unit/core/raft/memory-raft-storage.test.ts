import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRaftStorage } from '../../../../core/raft/memory-raft-storage';
import { CompactedError, SnapOutOfDateError, UnavailableError } from '../../../../core/raft/errors';
import { type Entry, EntryType } from '../../../../core/raft/types';

const ent = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(0) });
const ids = (ents: Entry[]) => ents.map((e) => `${e.term}/${e.index}`);

function storage35(): MemoryRaftStorage {
  // Snapshot at 3 (term 3), entries 4 and 5.
  const s = new MemoryRaftStorage();
  s.applySnapshot({ data: new Uint8Array(0), metadata: { index: 3, term: 3, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } });
  s.append([ent(4, 4), ent(5, 5)]);
  return s;
}

test('MemoryRaftStorage.term', () => {
  const cases = [
    { name: 'below the snapshot', i: 2, err: CompactedError },
    { name: 'the snapshot index', i: 3, want: 3 },
    { name: 'an entry', i: 5, want: 5 },
    { name: 'beyond the log', i: 6, err: UnavailableError },
  ];
  for (const c of cases) {
    const s = storage35();
    if (c.err) assert.throws(() => s.term(c.i), c.err, c.name);
    else assert.equal(s.term(c.i), c.want, c.name);
  }
});

test('MemoryRaftStorage.entries', () => {
  const cases = [
    { name: 'compacted', lo: 2, hi: 5, err: CompactedError },
    { name: 'snapshot index itself is compacted', lo: 3, hi: 5, err: CompactedError },
    { name: 'all', lo: 4, hi: 6, want: ['4/4', '5/5'] },
    { name: 'limited to one', lo: 4, hi: 6, max: 0, want: ['4/4'] },
  ];
  for (const c of cases) {
    const s = storage35();
    if (c.err) assert.throws(() => s.entries(c.lo, c.hi, Infinity), c.err, c.name);
    else assert.deepEqual(ids(s.entries(c.lo, c.hi, c.max ?? Infinity)), c.want, c.name);
  }
});

test('MemoryRaftStorage.append truncates conflicts and skips compacted entries', () => {
  const cases = [
    { name: 'continuation', ents: [ent(6, 6)], want: ['4/4', '5/5', '6/6'] },
    { name: 'overwrite suffix', ents: [ent(5, 6), ent(6, 6)], want: ['4/4', '6/5', '6/6'] },
    { name: 'overwrite all', ents: [ent(4, 6)], want: ['6/4'] },
    { name: 'partially compacted input', ents: [ent(2, 3), ent(3, 3), ent(4, 6)], want: ['6/4'] },
    { name: 'fully compacted input is ignored', ents: [ent(1, 1), ent(2, 2)], want: ['4/4', '5/5'] },
  ];
  for (const c of cases) {
    const s = storage35();
    s.append(c.ents);
    assert.deepEqual(ids(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity)), c.want, c.name);
  }
});

test('MemoryRaftStorage: compact, createSnapshot, applySnapshot', () => {
  const s = storage35();
  assert.throws(() => s.compact(3), CompactedError);
  s.compact(4);
  assert.equal(s.firstIndex(), 5);
  assert.equal(s.term(4), 4);
  const snap = s.createSnapshot(5, undefined, new Uint8Array([1]));
  assert.equal(snap.metadata.term, 5);
  assert.deepEqual(snap.metadata.confState.voters, [1n]);
  assert.throws(() => s.createSnapshot(5, undefined, new Uint8Array(0)), SnapOutOfDateError);
  assert.throws(() => s.applySnapshot(snap), SnapOutOfDateError);
  assert.equal(s.lastIndex(), 5);
});

test('MemoryRaftStorage.initialState returns copies', () => {
  const s = MemoryRaftStorage.withPeers([1n, 2n], [3n]);
  s.setHardState({ term: 2, vote: 1n, commit: 0 });
  const st = s.initialState();
  st.confState.voters.push(9n);
  assert.deepEqual(s.initialState().confState.voters, [1n, 2n]);
  assert.deepEqual(s.initialState().confState.learners, [3n]);
  assert.equal(s.initialState().hardState.term, 2);
});
