/**
 * Wal replay under damage. In the last segment a torn tail (file cut inside the last record,
 * lost pages, garbage after the end, a flipped bit) ends the log right before the damage, the
 * garbage is zeroed, and a following append + replay is consistent. Anywhere else damage is a
 * WalCorruptionError naming the file and the offset. Random offsets come from a seeded
 * generator; a failure message prints the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Wal, WalOptions } from '../../../../core/storage/wal';
import { WalCorruptionError } from '../../../../core/storage/wal-errors';
import { frameRecords, scanFrames, WalRecordType } from '../../../../core/storage/wal-record';
import { SeededRand } from '../../../../core/util/rand';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { entry, ids, recordSpans, segmentPaths } from './wal-fixtures';

const OPTS: WalOptions = { segmentBytes: 16 * 1024, pipeline: false };
const N = 12;
const TRIALS = 12;

/** A WAL in a fresh dir holding entries 1..N (term 1), one append each; returns the dir. */
async function filledWal(count = N, options = OPTS): Promise<string> {
  const dir = createTempDir('wal-damage-');
  const { wal } = await Wal.open(dir, options);
  for (let i = 1; i <= count; i++) await wal.append({ entries: [entry(i, 1, 200)], hardState: { term: 1, vote: 0n, commit: i } });
  await wal.close();
  return dir;
}

/** The span of the last record of the last segment (the last append's hard state record). */
function lastRecord(dir: string): { file: string; start: number; end: number } {
  const file = segmentPaths(dir).at(-1)!;
  const spans = recordSpans(file);
  return { file, ...spans.at(-1)! };
}

/** Replays, checks the log is 1..expect, appends 99/2 after it, replays again and checks. */
async function assertRecovers(dir: string, expect: number, context: string): Promise<void> {
  const first = await Wal.open(dir, OPTS);
  assert.deepEqual(first.replay.entries.map((e) => e.index), Array.from({ length: expect }, (_, i) => i + 1), context);
  await first.wal.append({ entries: [entry(expect + 1, 2, 50)] });
  await first.wal.close();
  const second = await Wal.open(dir, OPTS);
  assert.deepEqual(ids(second.replay.entries).slice(-2), [`${expect}/1`, `${expect + 1}/2`], `${context}: append after repair`);
  assert.equal(second.replay.tornBytes, 0, `${context}: nothing left to repair`);
  await second.wal.close();
}

/**
 * Each append writes two records (entries, hard state). Damage to the last record (the hard
 * state) keeps all entries; damage to the one before (the last entries record) loses entry N.
 */
test('file cut at a random offset inside the last records: replay stops before the damage', async () => {
  const rand = new SeededRand(Date.now() % 1_000_000);
  for (let t = 0; t < TRIALS; t++) {
    const dir = await filledWal();
    try {
      const file = segmentPaths(dir).at(-1)!;
      const spans = recordSpans(file);
      const target = spans[spans.length - 1 - rand.intn(2)]!;
      const cut = target.start + rand.intn(target.end - target.start);
      fs.truncateSync(file, cut);
      const lost = target === spans.at(-1) ? 0 : 1;
      await assertRecovers(dir, N - lost, `seed ${rand.seed} trial ${t}: cut at ${cut} in [${target.start},${target.end})`);
    } finally {
      removeTempDir(dir);
    }
  }
});

test('lost pages: the last record zeroed from a random offset, or only its middle', async () => {
  const rand = new SeededRand((Date.now() + 7) % 1_000_000);
  for (let t = 0; t < TRIALS; t++) {
    const dir = await filledWal();
    try {
      const { file, start, end } = lastRecord(dir);
      const from = start + rand.intn(end - start);
      const to = rand.chance(0.5) ? end : from + 1 + rand.intn(end - from);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(to - from), 0, to - from, from);
      fs.closeSync(fd);
      // Zeroing [from, to) may leave the record intact only if those bytes were zero already.
      const opened = await Wal.open(dir, OPTS);
      const intact = opened.replay.hardState?.commit === N;
      await opened.wal.close();
      if (!intact) await assertRecovers(dir, N, `seed ${rand.seed} trial ${t}: zeroed [${from},${to})`);
    } finally {
      removeTempDir(dir);
    }
  }
});

test('garbage after the end is reported, zeroed, and never read as records', async () => {
  const dir = await filledWal();
  try {
    const { file, end } = lastRecord(dir);
    const garbage = Buffer.alloc(3000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + 7) & 0xff || 1;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, garbage, 0, garbage.length, end + 500);
    fs.closeSync(fd);
    const opened = await Wal.open(dir, OPTS);
    assert.equal(opened.replay.lastIndex, N);
    assert.equal(opened.replay.tornBytes, 500 + garbage.length, 'counts from the tail to the last non-zero byte');
    await opened.wal.close();
    const after = fs.readFileSync(file).subarray(end);
    assert.ok(after.every((b) => b === 0), 'the garbage was zeroed on disk');
    await assertRecovers(dir, N, 'garbage');
  } finally {
    removeTempDir(dir);
  }
});

test('a flipped bit in either of the last two records ends the log before that record', async () => {
  const rand = new SeededRand((Date.now() + 13) % 1_000_000);
  for (let t = 0; t < TRIALS; t++) {
    const dir = await filledWal();
    try {
      const file = segmentPaths(dir).at(-1)!;
      const spans = recordSpans(file);
      const which = rand.intn(2);
      const target = spans[spans.length - 1 - which]!;
      const at = target.start + rand.intn(target.end - target.start);
      const buf = fs.readFileSync(file);
      buf[at] = buf[at]! ^ (1 << rand.intn(8));
      fs.writeFileSync(file, buf);
      await assertRecovers(dir, N - which, `seed ${rand.seed} trial ${t}: bit flip at ${at}`);
    } finally {
      removeTempDir(dir);
    }
  }
});

test('chained checksums: an old record after a rewritten one does not validate', () => {
  const r = (n: number) => ({ type: WalRecordType.HardState, payload: Buffer.alloc(20, n) });
  const old = frameRecords([r(1), r(2), r(3)], 0).bytes;
  const rewritten = Buffer.from(old);
  // The tail was torn at record 2 and a new record 2' of the same length was written over it:
  // record 3 (complete from before) must not be accepted after 2'.
  frameRecords([r(9)], scanCrcAfterFirst(old)).bytes.copy(rewritten, 29);
  const seen: number[] = [];
  const res = scanFrames(rewritten, 0, 0, (_t, payload) => seen.push(payload[0]!));
  assert.deepEqual(seen, [1, 9]);
  assert.equal(res.stop, 'torn');
});

function scanCrcAfterFirst(buf: Buffer): number {
  return scanFrames(buf.subarray(0, 29), 0, 0, () => {}).crc;
}

test('damage in a segment that is not the last is corruption, naming the file and offset', async () => {
  const dir = await filledWal(250);
  try {
    const files = segmentPaths(dir);
    assert.ok(files.length >= 3, 'the fixture spans several segments');
    const victim = files[1]!;
    const spans = recordSpans(victim);
    const target = spans[3]!;
    const buf = fs.readFileSync(victim);
    buf[target.start + 12] = buf[target.start + 12]! ^ 0x10;
    fs.writeFileSync(victim, buf);
    await assert.rejects(Wal.open(dir, OPTS), (err: unknown) => {
      assert.ok(err instanceof WalCorruptionError, String(err));
      assert.equal(err.file, path.basename(victim));
      assert.equal(err.offset, target.start);
      assert.match(err.message, new RegExp(`${path.basename(victim)} at offset ${target.start}`));
      return true;
    });
  } finally {
    removeTempDir(dir);
  }
});

test('a non-last segment that lost its last record breaks the chain to the next header', async () => {
  const dir = await filledWal(250);
  try {
    const victim = segmentPaths(dir)[0]!;
    const last = recordSpans(victim).at(-1)!;
    const fd = fs.openSync(victim, 'r+');
    fs.writeSync(fd, Buffer.alloc(last.end - last.start), 0, last.end - last.start, last.start);
    fs.closeSync(fd);
    await assert.rejects(Wal.open(dir, OPTS), (err: unknown) => err instanceof WalCorruptionError && /chain/.test(err.message) && err.file !== path.basename(victim));
  } finally {
    removeTempDir(dir);
  }
});

test('a missing segment in the middle is corruption', async () => {
  const dir = await filledWal(250);
  try {
    fs.rmSync(segmentPaths(dir)[1]!);
    await assert.rejects(Wal.open(dir, OPTS), (err: unknown) => err instanceof WalCorruptionError && /missing/.test(err.message));
  } finally {
    removeTempDir(dir);
  }
});

test('a record with a valid checksum but malformed content is corruption even at the tail', async () => {
  const dir = await filledWal(3);
  try {
    const file = segmentPaths(dir).at(-1)!;
    const buf = fs.readFileSync(file);
    const scan = scanFrames(buf, 0, 0, () => {});
    const bad = frameRecords([{ type: WalRecordType.Entries, payload: Buffer.from([5, 0xff]) }], scan.crc).bytes;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, bad, 0, bad.length, scan.end);
    fs.closeSync(fd);
    await assert.rejects(Wal.open(dir, OPTS), (err: unknown) => err instanceof WalCorruptionError && err.offset === scan.end);
  } finally {
    removeTempDir(dir);
  }
});
