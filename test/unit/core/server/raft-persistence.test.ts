/**
 * RaftPersistence: a hard state whose only change is the commit index is not waited for (one
 * fsync less per commit round), an apply waits for the appends holding its entries and not
 * for newer ones, and a restart that finds a commit index older than the applied
 * index raises it to cover what was applied (Raft requires applied ≤ committed); the durable
 * state reported after each LMDB commit carries the conf state in force at its index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { DurableState, RaftPersistence, withCommitCoveringApplied } from '../../../../core/server/raft-persistence';
import { MemBackend } from '../../../../core/storage/mem-backend';
import { ReadTxn } from '../../../../core/storage/backend';
import { DB, META } from '../../../../core/storage/schema';
import { encodeConfState } from '../../../../core/raft/codec';
import { EntryType, emptyConfState } from '../../../../core/raft/types';
import { nullLogger } from '../../../../core/util/logger';
import { createTempDir } from '../../../support/temp-dir';

const entry = (index: number) => ({ index, term: 1, type: EntryType.Normal, data: new Uint8Array(0) });

test('a commit-only hard state is written without waiting for a sync; entries are waited for', async () => {
  const held: Array<() => void> = [];
  const io = { writeDurable: (fd: number, chunks: Buffer[], at: number) => new Promise<void>((r) => held.push(() => r(void fs.writevSync(fd, chunks, at)))), fdatasyncSync: () => {} };
  const { persistence } = await RaftPersistence.open({ dir: createTempDir('raft-persistence-'), state: new MemBackend(), walIo: io, segmentBytes: 1 << 20, logger: nullLogger });
  let entriesDone = false;
  const withEntries = persistence.persist({ entries: [entry(1)], hardState: { term: 1, vote: 0n, commit: 0 }, appliedIndex: () => 0, mustSync: true }).then(() => {
    entriesDone = true;
  });
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  assert.equal(entriesDone, false, 'entries were reported durable before their sync');
  assert.equal(held.length, 1);
  held.shift()!();
  await withEntries;
  let commitDone = false;
  const commitOnly = persistence.persist({ entries: [], hardState: { term: 1, vote: 0n, commit: 1 }, appliedIndex: () => 0, mustSync: false }).then(() => {
    commitDone = true;
  });
  for (let i = 0; i < 10 && !commitDone; i++) await new Promise((r) => setImmediate(r));
  assert.equal(commitDone, true, 'a commit-only hard state waited for the disk');
  assert.equal(held.length, 0, 'a commit-only hard state started a sync');
  await commitOnly;
});

test('an apply waits for the appends holding its entries, not for newer entries of its own Ready', async () => {
  const held: Array<() => void> = [];
  const io = { writeDurable: (fd: number, chunks: Buffer[], at: number) => new Promise<void>((r) => held.push(() => r(void fs.writevSync(fd, chunks, at)))), fdatasyncSync: () => {} };
  const { persistence } = await RaftPersistence.open({ dir: createTempDir('raft-persistence-'), state: new MemBackend(), walIo: io, segmentBytes: 1 << 20, logger: nullLogger });
  const turns = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  const applied: number[] = [];
  const readyOf = (index: number, committed: number[]) => ({
    entries: [entry(index)], hardState: { term: 1, vote: 0n, commit: committed.at(-1) ?? 0 }, appliedIndex: () => applied.at(-1) ?? 0,
    apply: committed.length === 0 ? undefined : () => void applied.push(...committed), applyThrough: committed.at(-1),
  });
  // A leader in a cluster: entry 1 appended, then committed in the Ready that brings entry 2,
  // then 2 committed with 3 new: each apply needs the previous Ready's append only.
  void persistence.persist(readyOf(1, []));
  await turns(); // the sync of entry 1 starts: what is appended now waits for the next one
  const second = persistence.persist(readyOf(2, [1]));
  const third = persistence.persist(readyOf(3, [2]));
  await turns();
  assert.deepEqual(applied, [], 'entry 1 was applied before its append was durable');
  assert.equal(held.length, 1, 'one sync in flight (entry 1), the others wait for the next');
  held.shift()!();
  await second;
  assert.deepEqual(applied, [1], 'the apply of entry 1 waited for the sync of entry 2');
  await turns();
  assert.deepEqual(applied, [1], 'entry 2 was applied before its append was durable');
  assert.equal(held.length, 1, 'entries 2 and 3 share the next sync');
  held.shift()!();
  await third;
  assert.deepEqual(applied, [1, 2]);
  // Without applyThrough an apply waits for its own Ready's append, as before.
  const fourth = persistence.persist({ ...readyOf(4, [3]), applyThrough: undefined });
  await turns();
  assert.deepEqual(applied, [1, 2], 'an apply without applyThrough ran before its own append was durable');
  held.shift()!();
  await fourth;
  assert.deepEqual(applied, [1, 2, 3]);
  held.splice(0).forEach((r) => r());
  await persistence.close();
});

test('a restart raises a stale commit index to the applied index, within the log', () => {
  const base = { confState: undefined, compacted: { index: 0, term: 0 }, entries: [entry(1), entry(2), entry(3), entry(4)] };
  const stale = withCommitCoveringApplied({ ...base, hardState: { term: 1, vote: 0n, commit: 1 }, appliedIndex: 3 });
  assert.equal(stale.hardState?.commit, 3);
  const fine = withCommitCoveringApplied({ ...base, hardState: { term: 1, vote: 0n, commit: 4 }, appliedIndex: 3 });
  assert.equal(fine.hardState?.commit, 4, 'a commit index ahead of applied is kept');
  const short = withCommitCoveringApplied({ ...base, entries: [entry(1)], hardState: { term: 1, vote: 0n, commit: 0 }, appliedIndex: 3 });
  assert.equal(short.hardState?.commit, 1, 'never beyond the last entry of the log');
});

test('the durable state carries the conf state of each apply, not read from the store again unless an apply wrote it', async () => {
  let confReads = 0;
  class CountingBackend extends MemBackend {
    override read<T>(fn: (txn: ReadTxn) => T): T {
      return super.read((txn) => fn({
        ...txn,
        get: (db, key) => {
          if (db === DB.meta && key.equals(META.raftConfState)) confReads++;
          return txn.get(db, key);
        },
        iterate: (db, options) => txn.iterate(db, options),
      }));
    }
  }
  const { persistence } = await RaftPersistence.open({ dir: createTempDir('raft-persistence-'), state: new CountingBackend(), segmentBytes: 1 << 20, logger: nullLogger });
  const reported: DurableState[] = [];
  persistence.onStateDurable((s) => reported.push(s));
  const a = { ...emptyConfState(), voters: [1n] };
  const b = { ...emptyConfState(), voters: [1n, 2n] };
  let applied = 0;
  const step = async (index: number, conf?: typeof a): Promise<DurableState> => {
    await persistence.persist({
      entries: [entry(index)], hardState: { term: 1, vote: 0n, commit: index }, appliedIndex: () => applied,
      apply: (txn) => {
        applied = index;
        // Every real apply writes (the consistent index); an empty batch is not reported.
        txn.put(DB.meta, Buffer.from('test-applied'), Buffer.from(String(index)));
        if (conf) txn.put(DB.meta, META.raftConfState, Buffer.from(encodeConfState(conf)));
      },
    });
    await persistence.flush();
    for (let i = 0; i < 10 && reported[reported.length - 1]?.index !== index; i++) await new Promise((r) => setImmediate(r));
    assert.equal(reported[reported.length - 1]?.index, index, 'the durable state of the apply was reported');
    return reported[reported.length - 1]!;
  };
  const before = confReads;
  assert.deepEqual((await step(1, a)).confState, a);
  assert.deepEqual((await step(2)).confState, a);
  assert.deepEqual((await step(3)).confState, a);
  assert.deepEqual((await step(4, b)).confState, b, 'a new conf state written by an apply is reported');
  assert.deepEqual((await step(5)).confState, b);
  // Steps 1 and 4 find their own write in the write buffer; the others would read the store.
  assert.equal(confReads - before, 0, 'the conf state was read from the store although no apply changed it');
  await persistence.close();
});
