/**
 * Wal: append/replay round trip, group commit (held syncs: nobody is answered before a sync
 * that covers them), poisoning on a failed sync, segment rollover, releaseTo, Raft's overwrite
 * and snapshot rules, and rejected appends. Torn tails and corruption: wal-damage.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Wal, WalOptions } from '../../../../core/storage/wal';
import { WalFailedError } from '../../../../core/storage/wal-errors';
import { emptyConfState } from '../../../../core/raft/types';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { entries, entry, HeldIo, ids, segmentPaths, settle } from './wal-fixtures';

const SMALL: WalOptions = { segmentBytes: 64 * 1024, pipeline: false };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = createTempDir('wal-test-');
  try {
    await fn(dir);
  } finally {
    removeTempDir(dir);
  }
}

test('append then replay returns the entries, the last hard state and the snapshot marker', () =>
  withDir(async (dir) => {
    const { wal, replay: empty } = await Wal.open(dir, SMALL);
    assert.deepEqual(ids(empty.entries), []);
    assert.equal(empty.hardState, undefined);
    await wal.append({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 7n, commit: 1 } });
    await wal.append({ entries: entries(4, 5, 1), hardState: { term: 1, vote: 7n, commit: 4 } });
    await wal.append({ confState: { ...emptyConfState(), voters: [7n] } });
    assert.equal(wal.lastIndex, 5);
    await wal.close();

    const { wal: again, replay } = await Wal.open(dir, SMALL);
    assert.deepEqual(ids(replay.entries), ['1/1', '2/1', '3/1', '4/1', '5/1']);
    assert.deepEqual(Buffer.from(replay.entries[3]!.data), Buffer.from(entry(4, 1).data));
    assert.deepEqual(replay.hardState, { term: 1, vote: 7n, commit: 4 });
    assert.deepEqual(replay.confState?.voters, [7n]);
    assert.equal(replay.lastIndex, 5);
    assert.equal(replay.tornBytes, 0);
    // Appends continue after the replayed tail.
    await again.append({ entries: entries(6, 6, 2) });
    await again.close();
    const { wal: third, replay: r3 } = await Wal.open(dir, SMALL);
    assert.deepEqual(ids(r3.entries).slice(-2), ['5/1', '6/2']);
    await third.close();
  }));

test('segment files are preallocated: appends do not change their size', () =>
  withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { segmentBytes: 256 * 1024, pipeline: false });
    const [file] = segmentPaths(dir);
    assert.equal(fs.statSync(file!).size, 256 * 1024);
    for (let i = 1; i <= 20; i++) await wal.append({ entries: [entry(i, 1, 300)] });
    assert.equal(fs.statSync(file!).size, 256 * 1024);
    assert.match(path.basename(file!), /^0{16}-0{15}1\.wal$/);
    await wal.close();
  }));

test('group commit: one sync at a time, appends during it wait for the next, none answered early', () =>
  withDir(async (dir) => {
    const io = new HeldIo();
    const { wal } = await Wal.open(dir, { ...SMALL, io });
    const done = new Set<number>();
    const track = (i: number, p: Promise<void>) => p.then(() => done.add(i));
    const first = track(1, wal.append({ entries: [entry(1, 1)] }));
    await settle();
    assert.equal(io.calls, 1, 'the first append started a sync');
    const rest: Promise<unknown>[] = [];
    for (let i = 2; i <= 50; i++) rest.push(track(i, wal.append({ entries: [entry(i, 1)] })));
    await settle();
    assert.equal(io.calls, 1, 'no second sync while one is in flight');
    assert.equal(done.size, 0, 'nobody answered before a sync completed');
    io.release();
    await first;
    await settle();
    assert.deepEqual([...done], [1], 'the held sync covers only the append made before it started');
    assert.equal(io.calls, 2, 'the 49 later appends share one next sync');
    io.release();
    await Promise.all(rest);
    assert.equal(done.size, 50);
    assert.equal(io.calls, 2);
    io.hold = false;
    await wal.close();
  }));

/** The open flags of descriptor `fd` of this process, from /proc. */
function openFlags(fd: number): number {
  const line = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1').split('\n').find((l) => l.startsWith('flags:'));
  return parseInt(line!.split(/\s+/)[1]!, 8);
}

test('the group commit is one write through an O_DSYNC descriptor (a plain one with noSync)', () =>
  withDir(async (dir) => {
    for (const noSync of [false, true]) {
      const io = new HeldIo();
      io.hold = false;
      const { wal } = await Wal.open(path.join(dir, String(noSync)), { ...SMALL, io, noSync });
      await Promise.all([wal.append({ entries: [entry(1, 1)] }), wal.append({ entries: [entry(2, 1)] })]);
      assert.equal(io.calls, 1, 'two appends of one turn share one write');
      const [fd] = [...io.fds];
      assert.equal((openFlags(fd!) & fs.constants.O_DSYNC) !== 0, !noSync, `O_DSYNC on the group commit's descriptor (noSync ${noSync})`);
      await wal.close();
    }
  }));

test('appends reach the file with the group write; a cut while one is held rewrites it into the old segment', () =>
  withDir(async (dir) => {
    const io = new HeldIo();
    const { wal } = await Wal.open(path.join(dir, 'wal'), { ...SMALL, io });
    const first = wal.append({ entries: [entry(1, 1, 100)] });
    await settle();
    assert.equal(io.pending, 1, 'the first append is in a held write');
    assert.ok(!fs.readFileSync(segmentPaths(path.join(dir, 'wal'))[0]!).includes(Buffer.from(entry(1, 1, 100).data)), 'not in the file before its write');
    // A batch that does not fit cuts the segment while the first write is still held.
    const second = wal.append({ entries: [entry(2, 1, 65 * 1024)] });
    assert.equal(segmentPaths(path.join(dir, 'wal')).length, 2);
    await first; // the cut synced the old segment with the held write's bytes in it
    // What a crash now would leave: the old segment whole, the new one with its header only.
    fs.cpSync(path.join(dir, 'wal'), path.join(dir, 'copy'), { recursive: true });
    const { wal: copy, replay } = await Wal.open(path.join(dir, 'copy'), SMALL);
    assert.deepEqual(ids(replay.entries), ['1/1']);
    await copy.close();
    io.release();
    await settle();
    assert.equal(io.calls, 2, 'the batch after the cut goes in the next write');
    io.release();
    await second;
    await wal.close();
    const { wal: again, replay: all } = await Wal.open(path.join(dir, 'wal'), SMALL);
    assert.deepEqual(ids(all.entries), ['1/1', '2/1']);
    await again.close();
  }));

test('a failed sync rejects every waiter and poisons the WAL (no retry)', () =>
  withDir(async (dir) => {
    const io = new HeldIo();
    const { wal } = await Wal.open(dir, { ...SMALL, io });
    const a = wal.append({ entries: [entry(1, 1)] });
    await settle();
    const b = wal.append({ entries: [entry(2, 1)] });
    io.fail();
    await assert.rejects(a, WalFailedError);
    await assert.rejects(b, WalFailedError);
    await assert.rejects(wal.append({ entries: [entry(3, 1)] }), WalFailedError);
    await settle();
    assert.equal(io.calls, 1, 'no sync was attempted after the failure');
    await wal.close();
  }));

test('segments roll over; replay spans them; the directory holds consecutive names', async () => {
  for (const pipeline of [false, true]) {
    await withDir(async (dir) => {
      const { wal } = await Wal.open(dir, { segmentBytes: 16 * 1024, pipeline });
      for (let i = 1; i <= 200; i++) await wal.append({ entries: [entry(i, 1 + (i >> 6), 300)], hardState: { term: 1 + (i >> 6), vote: 0n, commit: i - 1 } });
      assert.ok(wal.segmentCount >= 4, `rolled over (${wal.segmentCount} segments)`);
      await wal.close();
      const files = fs.readdirSync(dir).sort();
      assert.ok(files.every((f) => f.endsWith('.wal')), `no leftover tmp files: ${files.join(',')}`);
      const { wal: again, replay } = await Wal.open(dir, { segmentBytes: 16 * 1024, pipeline });
      assert.equal(replay.entries.length, 200);
      assert.deepEqual(replay.entries.map((e) => e.index), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.deepEqual(replay.hardState, { term: 4, vote: 0n, commit: 199 });
      await again.close();
    });
  }
});

test('a batch larger than a segment gets a segment of its own size', () =>
  withDir(async (dir) => {
    const { wal } = await Wal.open(dir, { segmentBytes: 8 * 1024, pipeline: false });
    await wal.append({ entries: entries(1, 100, 1, 300) });
    await wal.append({ entries: [entry(101, 1)] });
    await wal.close();
    const { wal: again, replay } = await Wal.open(dir, { segmentBytes: 8 * 1024, pipeline: false });
    assert.equal(replay.lastIndex, 101);
    await again.close();
  }));

test('releaseTo deletes whole segments below the index, keeps state, never the tail', () =>
  withDir(async (dir) => {
    const opts: WalOptions = { segmentBytes: 8 * 1024, pipeline: false };
    const { wal } = await Wal.open(dir, opts);
    await wal.append({ hardState: { term: 3, vote: 2n, commit: 0 }, confState: { ...emptyConfState(), voters: [2n] } });
    for (let i = 1; i <= 120; i++) await wal.append({ entries: [entry(i, 3, 300)] });
    const before = wal.segmentCount;
    assert.ok(before >= 4);
    const names = fs.readdirSync(dir).sort();
    const firstIndexes = names.map((n) => parseInt(n.slice(17, 33), 16));
    assert.equal(await wal.releaseTo(0), 0, 'nothing is released below the first segment');
    // Release up to just before the third segment's first index: the first two go.
    const removed = await wal.releaseTo(firstIndexes[2]! - 1);
    assert.equal(removed, 2);
    assert.equal(wal.segmentCount, before - 2);
    assert.equal(await wal.releaseTo(1_000_000), before - 3);
    assert.equal(wal.segmentCount, 1, 'the tail stays');
    await wal.append({ entries: [entry(121, 3)] });
    await wal.close();
    const { wal: again, replay } = await Wal.open(dir, opts);
    const last = firstIndexes[firstIndexes.length - 1]!;
    assert.deepEqual(replay.compacted, { index: last - 1, term: 3 }, 'released entries are reported as compacted');
    assert.deepEqual(replay.entries.map((e) => e.index), Array.from({ length: 121 - last + 1 }, (_, i) => last + i));
    assert.deepEqual(replay.hardState, { term: 3, vote: 2n, commit: 0 }, 'hard state survives in the header copy');
    assert.deepEqual(replay.confState?.voters, [2n]);
    await again.close();
  }));

test('an entry at index i replaces i and everything after it, also across segments and replays', () =>
  withDir(async (dir) => {
    const opts: WalOptions = { segmentBytes: 8 * 1024, pipeline: false };
    const { wal } = await Wal.open(dir, opts);
    await wal.append({ entries: entries(1, 40, 1, 300) });
    await wal.append({ entries: entries(6, 8, 2) });
    assert.equal(wal.lastIndex, 8);
    await wal.append({ entries: entries(9, 9, 2) });
    await wal.close();
    const { wal: again, replay } = await Wal.open(dir, opts);
    assert.deepEqual(ids(replay.entries), ['1/1', '2/1', '3/1', '4/1', '5/1', '6/2', '7/2', '8/2', '9/2']);
    await again.append({ entries: entries(3, 3, 3) });
    await again.close();
    const { wal: third, replay: r3 } = await Wal.open(dir, opts);
    assert.deepEqual(ids(r3.entries), ['1/1', '2/1', '3/3']);
    await third.close();
  }));

test('snapshot marker: a matching one compacts and keeps the suffix, a conflicting one clears the log', () =>
  withDir(async (dir) => {
    const { wal } = await Wal.open(dir, SMALL);
    await wal.append({ entries: entries(1, 10, 1) });
    const cs = { ...emptyConfState(), voters: [1n, 2n] };
    await wal.append({ snapshot: { index: 5, term: 1, confState: cs } });
    await wal.close();
    let opened = await Wal.open(dir, SMALL);
    assert.deepEqual(opened.replay.compacted, { index: 5, term: 1 });
    assert.deepEqual(ids(opened.replay.entries), ['6/1', '7/1', '8/1', '9/1', '10/1']);
    assert.deepEqual(opened.replay.confState?.voters, [1n, 2n]);
    // A follower restored from a snapshot whose term does not match its log: the log is replaced.
    await opened.wal.append({ snapshot: { index: 8, term: 4, confState: cs }, entries: entries(9, 9, 4) });
    await opened.wal.close();
    opened = await Wal.open(dir, SMALL);
    assert.deepEqual(opened.replay.compacted, { index: 8, term: 4 });
    assert.deepEqual(ids(opened.replay.entries), ['9/4']);
    assert.equal(opened.replay.snapshot?.index, 8);
    await opened.wal.close();
  }));

test('appends that break the log rules are rejected without writing', () =>
  withDir(async (dir) => {
    const { wal } = await Wal.open(dir, SMALL);
    await wal.append({ entries: entries(1, 3, 1) });
    await assert.rejects(wal.append({ entries: [entry(5, 1)] }), /gap/);
    await assert.rejects(wal.append({ entries: [entry(4, 1), entry(6, 1)] }), /not consecutive/);
    await wal.append({ entries: [entry(4, 1)] });
    await wal.close();
    const { wal: again, replay } = await Wal.open(dir, SMALL);
    assert.equal(replay.lastIndex, 4);
    await assert.rejects(again.append({}).then(() => again.append({ entries: [entry(9, 1)] })), /gap/);
    await again.close();
  }));

test('close waits for appends in flight; appends after close reject', () =>
  withDir(async (dir) => {
    const { wal } = await Wal.open(dir, SMALL);
    const pending = wal.append({ entries: entries(1, 5, 1) });
    await wal.close();
    await pending;
    await assert.rejects(wal.append({ entries: [entry(6, 1)] }), /closed/);
  }));
