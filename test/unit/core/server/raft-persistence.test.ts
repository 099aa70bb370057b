/**
 * RaftPersistence: a hard state whose only change is the commit index is not waited for (one
 * fsync less per commit round), and a restart that finds a commit index older than the applied
 * index raises it to cover what was applied (Raft requires applied ≤ committed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftPersistence, withCommitCoveringApplied } from '../../../../core/server/raft-persistence';
import { MemBackend } from '../../../../core/storage/mem-backend';
import { EntryType } from '../../../../core/raft/types';
import { nullLogger } from '../../../../core/util/logger';
import { createTempDir } from '../../../support/temp-dir';

const entry = (index: number) => ({ index, term: 1, type: EntryType.Normal, data: new Uint8Array(0) });

test('a commit-only hard state is written without waiting for a sync; entries are waited for', async () => {
  const held: Array<() => void> = [];
  const io = { fdatasync: () => new Promise<void>((r) => held.push(r)), fdatasyncSync: () => {} };
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

test('a restart raises a stale commit index to the applied index, within the log', () => {
  const base = { confState: undefined, compacted: { index: 0, term: 0 }, entries: [entry(1), entry(2), entry(3), entry(4)] };
  const stale = withCommitCoveringApplied({ ...base, hardState: { term: 1, vote: 0n, commit: 1 }, appliedIndex: 3 });
  assert.equal(stale.hardState?.commit, 3);
  const fine = withCommitCoveringApplied({ ...base, hardState: { term: 1, vote: 0n, commit: 4 }, appliedIndex: 3 });
  assert.equal(fine.hardState?.commit, 4, 'a commit index ahead of applied is kept');
  const short = withCommitCoveringApplied({ ...base, entries: [entry(1)], hardState: { term: 1, vote: 0n, commit: 0 }, appliedIndex: 3 });
  assert.equal(short.hardState?.commit, 1, 'never beyond the last entry of the log');
});
