/**
 * WalSegmentReader (core/storage/wal-segment-reader.ts): scanning a file through the sliding window
 * finds exactly what scanning the whole file in memory finds (records, their offsets and bytes,
 * the end, the CRC, why it stopped), with frames that straddle the window's edge and frames
 * larger than the window; `lastNonZero` finds the last non-zero byte wherever it is; and a real
 * WAL whose segments are several windows long replays (through the window, in two passes) exactly
 * the entries a snapshot marker and an overwrite left. Sizes and positions come from a seeded
 * generator; a failure prints the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { emptyConfState, Entry } from '../../../../core/raft/types';
import { Wal } from '../../../../core/storage/wal';
import { frameRecords, scanFrames, WalRecord } from '../../../../core/storage/wal-record';
import { WalSegmentReader, WAL_READ_WINDOW_BYTES } from '../../../../core/storage/wal-segment-reader';
import { SeededRand } from '../../../../core/util/rand';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { entries, entry, ids } from './wal-fixtures';

const SEED = 3101;

/** Records of random sizes: mostly small, some near the window's size, one larger than it. */
function randomRecords(rand: SeededRand): WalRecord[] {
  const out: WalRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const big = i === 17 ? WAL_READ_WINDOW_BYTES + 12345 : rand.intn(10) === 0 ? rand.intn(WAL_READ_WINDOW_BYTES) : rand.intn(3000);
    const payload = Buffer.alloc(big);
    for (let j = 0; j < payload.length; j += 97) payload[j] = rand.intn(256);
    out.push({ type: 2, payload });
  }
  return out;
}

/** Every record a scan reports, copied (views die with the next read), with the result. */
function scanAll(src: Parameters<typeof scanFrames>[0]) {
  const seen: { type: number; offset: number; payload: Buffer }[] = [];
  const result = scanFrames(src, 0, 0, (type, payload, offset) => seen.push({ type, offset, payload: Buffer.from(payload) }));
  return { seen, result };
}

function withFile(bytes: Buffer, body: (window: WalSegmentReader) => void): void {
  const dir = createTempDir('wal-window-');
  const file = path.join(dir, 'seg.wal');
  fs.writeFileSync(file, bytes);
  const fd = fs.openSync(file, 'r');
  try {
    const window = new WalSegmentReader();
    window.open(fd, 'seg.wal');
    body(window);
  } finally {
    fs.closeSync(fd);
    removeTempDir(dir);
  }
}

test('a scan through the window reports exactly what a scan of the whole buffer reports', () => {
  const rand = new SeededRand(SEED);
  const { bytes } = frameRecords(randomRecords(rand), 0);
  // Zero padding after the records, as in a preallocated segment, then a torn variant.
  const clean = Buffer.concat([bytes, Buffer.alloc(3 * WAL_READ_WINDOW_BYTES + 17)]);
  const torn = Buffer.from(clean);
  const cut = bytes.length - 5 - rand.intn(1000);
  torn.fill(0xaa, cut, cut + 3); // damages the last record or two: the scan must stop before them
  for (const [name, buf] of [['clean', clean], ['torn', torn], ['cut short', bytes.subarray(0, bytes.length - 3)]] as const) {
    const expected = scanAll(buf);
    withFile(buf, (window) => {
      const got = scanAll(window);
      assert.deepEqual(got.result, expected.result, `seed ${SEED}, ${name}: scan result`);
      assert.equal(got.seen.length, expected.seen.length, `seed ${SEED}, ${name}: record count`);
      for (let i = 0; i < got.seen.length; i++) {
        assert.equal(got.seen[i]!.offset, expected.seen[i]!.offset, `seed ${SEED}, ${name}: offset of record ${i}`);
        assert.ok(got.seen[i]!.payload.equals(expected.seen[i]!.payload), `seed ${SEED}, ${name}: bytes of record ${i}`);
      }
    });
    if (name !== 'clean') assert.equal(expected.result.stop, 'torn', `${name}: the damage is seen`);
  }
});

test('lastNonZero finds the last non-zero byte at any position, and none in zeros', () => {
  const rand = new SeededRand(SEED + 1);
  const size = 3 * WAL_READ_WINDOW_BYTES + 4321;
  const positions = [0, 1, WAL_READ_WINDOW_BYTES - 1, WAL_READ_WINDOW_BYTES, size - WAL_READ_WINDOW_BYTES, size - 1];
  for (let i = 0; i < 6; i++) positions.push(rand.intn(size));
  for (const at of positions) {
    const buf = Buffer.alloc(size);
    buf[at] = 1 + rand.intn(255);
    withFile(buf, (window) => {
      const from = rand.intn(at + 1);
      assert.equal(window.lastNonZero(from), at + 1, `seed ${SEED + 1}: non-zero byte at ${at}, scanned from ${from}`);
      assert.equal(window.lastNonZero(at + 1), at + 1, `seed ${SEED + 1}: nothing after ${at}`);
    });
  }
  withFile(Buffer.alloc(size), (window) => assert.equal(window.lastNonZero(100), 100));
});

test('a WAL of segments several windows long replays the entries a marker and an overwrite left', async () => {
  const rand = new SeededRand(SEED + 2);
  const dir = createTempDir('wal-window-replay-');
  try {
    const options = { segmentBytes: 4 * WAL_READ_WINDOW_BYTES, pipeline: false };
    const { wal } = await Wal.open(dir, options);
    const expected = new Map<number, Entry>();
    const put = async (es: Entry[]): Promise<void> => {
      for (const k of [...expected.keys()]) if (k >= es[0]!.index) expected.delete(k);
      for (const e of es) expected.set(e.index, e);
      await wal.append({ entries: es });
    };
    // Entries of 1 to 60 KiB, a few larger than the window, in batches of 1 to 4: ≈ 10 MiB over
    // three segments, so records straddle windows and the second pass moves between files.
    let next = 1;
    while (next <= 300) {
      const batch: Entry[] = [];
      for (let n = 1 + rand.intn(4); n > 0; n--, next++) batch.push(entry(next, 1, next % 97 === 0 ? WAL_READ_WINDOW_BYTES + 500 : 1024 + rand.intn(60 * 1024)));
      await put(batch);
    }
    await wal.append({ snapshot: { index: 150, term: 1, confState: emptyConfState() } });
    for (const k of [...expected.keys()]) if (k <= 150) expected.delete(k);
    await put(entries(280, 310, 2, 20 * 1024)); // overwrites 280.. with term 2
    await wal.close();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.wal'));
    assert.ok(files.length >= 3, `the WAL spans several segments (${files.length})`);

    const { wal: again, replay } = await Wal.open(dir, options);
    await again.close();
    const want = [...expected.values()].sort((a, b) => a.index - b.index);
    assert.equal(replay.compacted.index, 150);
    assert.deepEqual(ids(replay.entries), ids(want), `seed ${SEED + 2}: replayed entries`);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Buffer.from(replay.entries[i]!.data).equals(Buffer.from(want[i]!.data)), `seed ${SEED + 2}: data of entry ${want[i]!.index}`);
    }
  } finally {
    removeTempDir(dir);
  }
});
