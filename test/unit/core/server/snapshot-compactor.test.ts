/**
 * RaftSnapshotCompactor: snapshots only every `snapshotCount` durable applied entries, compacts
 * the in-memory log to the snapshot minus the catch-up entries, and writes the WAL marker with
 * the conf state it was given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftSnapshotCompactor } from '../../../../core/server/raft-snapshot-compactor';
import { MemoryRaftStorage } from '../../../../core/raft/memory-raft-storage';
import { emptyConfState, EntryType, SnapshotMetadata } from '../../../../core/raft/types';

const silent = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silent; } } as never;

function storageWith(n: number): MemoryRaftStorage {
  const s = MemoryRaftStorage.withPeers([1n]);
  s.append(Array.from({ length: n }, (_, i) => ({ index: i + 1, term: i < 50 ? 1 : 2, type: EntryType.Normal, data: new Uint8Array(0) })));
  return s;
}

function setup(count: number, catchUp: number, n = 1000) {
  const storage = storageWith(n);
  const markers: SnapshotMetadata[] = [];
  const c = new RaftSnapshotCompactor({ storage, sink: { recordSnapshot: async (m) => void markers.push(m) }, snapshotCount: count, catchUpEntries: catchUp, logger: silent });
  return { storage, markers, c };
}

test('below snapshot-count durable entries nothing happens', () => {
  const { storage, markers, c } = setup(200, 50);
  c.onStateDurable({ index: 199, confState: undefined });
  assert.equal(storage.firstIndex(), 1);
  assert.equal(markers.length, 0);
  assert.equal(c.snapshotsTaken, 0);
});

test('a snapshot at the durable index compacts to index − catch-up and writes a marker', async () => {
  const { storage, markers, c } = setup(200, 50);
  const cs = { ...emptyConfState(), voters: [1n, 2n] };
  c.onStateDurable({ index: 300, confState: cs });
  await Promise.resolve();
  assert.equal(storage.snapshot().metadata.index, 300);
  assert.equal(storage.snapshot().metadata.term, 2);
  assert.deepEqual(storage.snapshot().metadata.confState.voters, [1n, 2n]);
  assert.equal(storage.firstIndex(), 251);
  assert.equal(markers.length, 1);
  assert.equal(markers[0]!.index, 300);
  assert.equal(markers[0]!.term, 2);
  // The next one waits for another snapshot-count entries after 300.
  c.onStateDurable({ index: 450, confState: cs });
  assert.equal(markers.length, 1);
  c.onStateDurable({ index: 500, confState: cs });
  await Promise.resolve();
  assert.equal(markers.length, 2);
  assert.equal(storage.firstIndex(), 451);
});

test('catch-up larger than the snapshot point keeps the whole log in memory', () => {
  const { storage, c } = setup(100, 5000);
  c.onStateDurable({ index: 400, confState: undefined });
  assert.equal(storage.snapshot().metadata.index, 400);
  assert.equal(storage.firstIndex(), 1);
});

test('a durable index behind an installed snapshot or beyond the log is ignored', () => {
  const { storage, markers, c } = setup(10, 0, 100);
  storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: 5000, term: 3, confState: emptyConfState() } });
  c.onStateDurable({ index: 4000, confState: undefined });
  c.onStateDurable({ index: 6000, confState: undefined });
  assert.equal(markers.length, 0);
  assert.equal(storage.snapshot().metadata.index, 5000);
});
