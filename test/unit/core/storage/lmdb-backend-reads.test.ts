/**
 * LmdbBackend's read contract (backend.ts): what `get` and `iterate` return is the caller's to
 * keep, intact whatever is read after it, during the read callback and after it. lmdb-js reads
 * into one reusable buffer and our decoder copies out of it (lmdb-backend.ts), so a missing or
 * short copy shows up here as a value overwritten by a later read. A borrowing iteration lends
 * that buffer instead: each value is right at its own step, and ordinary reads after it copy again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { DB } from '../../../../core/storage/schema';

/** Values of assorted sizes: empty, small, a page, and larger than lmdb-js's reusable read buffer. */
const SIZES = [0, 1, 37, 4095, 4096, 70_000, 3 * 1024 * 1024];

function valueOf(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = (i * 31 + j) & 0xff;
  return b;
}

const keyOf = (i: number): Buffer => Buffer.from(`k${String(i).padStart(3, '0')}`);

async function withBackend(fn: (b: LmdbBackend) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmdb-reads-'));
  const b = LmdbBackend.open({ path: dir, noSync: true });
  try {
    await fn(b);
  } finally {
    await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('values read by get and iterate stay intact while later reads run', async () => {
  await withBackend(async (b) => {
    await b.write((txn) => SIZES.forEach((size, i) => txn.put(DB.kv, keyOf(i), valueOf(i, size))));
    b.read((txn) => {
      const got = SIZES.map((_s, i) => txn.get(DB.kv, keyOf(i)));
      SIZES.forEach((size, i) => assert.deepEqual(got[i], valueOf(i, size), `get of value ${i} (${size} bytes)`));
      for (const reverse of [false, true]) {
        const entries = [...txn.iterate(DB.kv, { reverse })];
        assert.equal(entries.length, SIZES.length);
        for (const { key, value } of entries) {
          const i = Number(key.toString().slice(1));
          assert.deepEqual(value, valueOf(i, SIZES[i]!), `iterated value ${i}${reverse ? ' (reverse)' : ''}`);
        }
      }
      assert.equal(txn.get(DB.kv, Buffer.from('absent')), undefined);
    });
  });
});

test('values read stay intact after the read callback, across later reads', async () => {
  await withBackend(async (b) => {
    await b.write((txn) => SIZES.forEach((size, i) => txn.put(DB.kv, keyOf(i), valueOf(i, size))));
    const kept = b.read((txn) => SIZES.map((_s, i) => txn.get(DB.kv, keyOf(i))));
    const iterated = b.read((txn) => [...txn.iterate(DB.kv)].map((e) => e.value));
    b.read((txn) => [...txn.iterate(DB.kv, { reverse: true })]);
    SIZES.forEach((size, i) => {
      assert.deepEqual(kept[i], valueOf(i, size), `kept get of value ${i}`);
      assert.deepEqual(iterated[i], valueOf(i, size), `kept iterated value ${i}`);
    });
  });
});

test('a borrowing iteration gives each value right at its step, and later reads copy again', async () => {
  await withBackend(async (b) => {
    await b.write((txn) => SIZES.forEach((size, i) => txn.put(DB.kv, keyOf(i), valueOf(i, size))));
    b.read((txn) => {
      for (const reverse of [false, true]) {
        const seen: number[] = [];
        for (const { key, value } of txn.iterate(DB.kv, { reverse, borrow: true })) {
          const i = Number(key.toString().slice(1));
          assert.deepEqual(value, valueOf(i, SIZES[i]!), `borrowed value ${i}${reverse ? ' (reverse)' : ''}`);
          seen.push(i);
        }
        assert.deepEqual(seen, reverse ? [...SIZES.keys()].reverse() : [...SIZES.keys()]);
      }
      // Small values borrowed one after the other are views of one read buffer: no copy was made.
      // (Copies from Node's pool could share an ArrayBuffer too, but never its place in it.)
      const [a, c] = [...txn.iterate(DB.kv, { start: keyOf(1), borrow: true, limit: 2 })].map((e) => e.value);
      assert.ok(a!.buffer === c!.buffer && a!.byteOffset === c!.byteOffset, 'borrowed values are views of one read buffer');
      // Stopping a borrowing iteration early ends the lending: the next reads are copies again.
      for (const _ of txn.iterate(DB.kv, { borrow: true })) break;
      const one = txn.get(DB.kv, keyOf(1));
      const two = txn.get(DB.kv, keyOf(2));
      assert.deepEqual(one, valueOf(1, SIZES[1]!));
      assert.deepEqual(two, valueOf(2, SIZES[2]!));
    });
  });
});

test('reads inside a write transaction see its own writes and keep them intact', async () => {
  await withBackend(async (b) => {
    await b.write((txn) => {
      txn.put(DB.kv, keyOf(1), valueOf(1, 100));
      txn.put(DB.kv, keyOf(2), valueOf(2, 5000));
      const one = txn.get(DB.kv, keyOf(1));
      const two = txn.get(DB.kv, keyOf(2));
      assert.deepEqual(one, valueOf(1, 100));
      assert.deepEqual(two, valueOf(2, 5000));
    });
  });
});
