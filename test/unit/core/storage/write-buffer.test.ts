/**
 * WriteBuffer: applied batches are readable before the inner backend commits them; batches reach
 * the inner backend in order, coalesced, one inner write at a time; a crash of the inner backend
 * loses only a suffix of batches; back-pressure; failed batches and failed inner writes; owned
 * copies; and a round trip through the real LmdbBackend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBuffer } from '../../../../core/storage/write-buffer';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { MemBackend } from '../../../../core/storage/mem-backend';
import { DB } from '../../../../core/storage/schema';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { dump, GatedBackend, settle } from './write-buffer-fixtures';

const b = (s: string) => Buffer.from(s, 'latin1');
const DBS = ['a', 'b'];

test('reads see applied batches before the inner commit; the inner gets them after', async () => {
  const inner = new GatedBackend();
  const wb = new WriteBuffer(inner, { flushDelayMs: 0 });
  await wb.write((t) => {
    t.put('a', b('k1'), b('v1'));
    t.put('a', b('k2'), b('v2'));
  });
  assert.equal(wb.appliedSeq, 1);
  assert.equal(wb.durableSeq, 0);
  assert.equal(wb.read((t) => t.get('a', b('k1'))?.toString()), 'v1');
  assert.deepEqual(dump(inner, DBS), [], 'the inner backend has nothing yet');
  await wb.write((t) => t.del('a', b('k1')));
  assert.equal(wb.read((t) => t.get('a', b('k1'))), undefined, 'a buffered delete hides the key');
  assert.deepEqual(dump(wb, DBS), ['a:k2=v2']);
  await settle();
  inner.release();
  await wb.whenDurable(1);
  assert.deepEqual(dump(inner, DBS), ['a:k1=v1', 'a:k2=v2'], 'batch 1 alone is committed first');
  assert.deepEqual(dump(wb, DBS), ['a:k2=v2'], 'the view still shows batch 2 over it');
  await settle();
  inner.release();
  await wb.flush();
  assert.deepEqual(dump(inner, DBS), ['a:k2=v2']);
  assert.equal(wb.bufferedBytes, 0);
});

test("a write's own view: its puts and deletes over the buffered and inner state", async () => {
  const inner = new GatedBackend();
  inner.hold = false;
  const wb = new WriteBuffer(inner, { flushDelayMs: 0 });
  await inner.write((t) => ['k1', 'k3', 'k5'].forEach((k) => t.put('a', b(k), b('inner'))));
  inner.hold = true;
  await wb.write((t) => {
    t.put('a', b('k2'), b('buffered'));
    t.del('a', b('k3'));
  });
  const seen = await wb.write((t) => {
    t.put('a', b('k4'), b('own'));
    t.del('a', b('k5'));
    const keys = [...t.iterate('a')].map((e) => `${e.key}=${e.value}`);
    // Writing while iterating the own view must not disturb the iteration.
    for (const e of t.iterate('a')) t.put('a', Buffer.concat([e.key, b('x')]), b('copy'));
    return { keys, k2: t.get('a', b('k2'))?.toString(), k4: t.get('a', b('k4'))?.toString(), k3: t.get('a', b('k3')) };
  });
  assert.deepEqual(seen.keys, ['k1=inner', 'k2=buffered', 'k4=own']);
  assert.deepEqual([seen.k2, seen.k4, seen.k3], ['buffered', 'own', undefined]);
  assert.deepEqual(dump(wb, ['a']), ['a:k1=inner', 'a:k1x=copy', 'a:k2=buffered', 'a:k2x=copy', 'a:k4=own', 'a:k4x=copy']);
  inner.hold = false;
  while (inner.pending > 0) inner.release();
  await wb.flush();
  assert.deepEqual(dump(inner, ['a']), dump(wb, ['a']));
});

test('batches written together share one inner write; one inner write in flight at a time', async () => {
  const inner = new GatedBackend();
  const wb = new WriteBuffer(inner, { flushDelayMs: 0 });
  for (let i = 0; i < 10; i++) void wb.write((t) => t.put('a', b(`k${i}`), b(`v${i}`)));
  await settle();
  assert.equal(inner.writes, 1, 'ten batches of one synchronous run: one inner write');
  for (let i = 10; i < 20; i++) {
    void wb.write((t) => t.put('a', b(`k${i}`), b(`v${i}`)));
    await settle();
  }
  assert.equal(inner.writes, 1, 'no second inner write while the first is in flight');
  const durable: number[] = [];
  wb.onDurable((seq) => durable.push(seq));
  inner.release();
  await wb.whenDurable(10);
  await settle();
  assert.equal(inner.writes, 2, 'the ten later batches go in one more inner write');
  inner.release();
  await wb.flush();
  assert.deepEqual(durable, [10, 20]);
  assert.equal(dump(inner, ['a']).length, 20);
});

test('a crash of the inner backend keeps a prefix of the batches, in order', async () => {
  const inner = new GatedBackend();
  const wb = new WriteBuffer(inner, { maxFlushBytes: 1, flushDelayMs: 0 });
  const model = new MemBackend();
  const modelAfter: string[][] = [[]];
  for (let i = 1; i <= 12; i++) {
    const fn = (t: { put(db: string, k: Buffer, v: Buffer): void; del(db: string, k: Buffer): void }) => {
      t.put('a', b(`k${i % 5}`), b(`v${i}`));
      if (i % 3 === 0) t.del('a', b(`k${(i + 1) % 5}`));
      t.put('b', b(`seq`), b(String(i)));
    };
    void wb.write(fn);
    await model.write(fn);
    modelAfter.push(dump(model, DBS));
  }
  await settle();
  // maxFlushBytes 1: every batch is its own inner write. Let five through, then crash.
  for (let i = 0; i < 5; i++) {
    inner.release();
    await wb.whenDurable(i + 1);
    await settle();
  }
  const crashed = inner.crashState();
  assert.equal(wb.durableSeq, 5);
  assert.deepEqual(dump(crashed, DBS), modelAfter[5], 'the durable state is exactly batches 1..5');
  assert.deepEqual(dump(wb, DBS), modelAfter[12], 'the applied view has all twelve');
});

test('back-pressure: beyond the byte bound, write resolves only after a flush', async () => {
  const inner = new GatedBackend();
  const wb = new WriteBuffer(inner, { maxBufferedBytes: 1000, flushDelayMs: 0 });
  let answered = false;
  await wb.write((t) => t.put('a', b('small'), Buffer.alloc(100)));
  const big = wb.write((t) => t.put('a', b('big'), Buffer.alloc(2000))).then(() => (answered = true));
  await settle();
  assert.equal(answered, false, 'held while over the bound');
  assert.ok(wb.read((t) => t.get('a', b('big'))), 'but applied and readable');
  inner.release();
  await settle();
  assert.equal(answered, false, 'still over the bound after the first flush');
  inner.release();
  await big;
  assert.equal(wb.bufferedBytes, 0);
});

test('a batch whose function throws leaves no trace', async () => {
  const inner = new GatedBackend();
  inner.hold = false;
  const wb = new WriteBuffer(inner, { flushDelayMs: 0 });
  await assert.rejects(
    wb.write((t) => {
      t.put('a', b('k'), b('v'));
      throw new Error('abort');
    }),
    /abort/,
  );
  assert.equal(wb.appliedSeq, 0);
  assert.equal(wb.read((t) => t.get('a', b('k'))), undefined);
  await wb.flush();
  assert.equal(inner.writes, 0);
});

test('a failed inner write poisons: durability waiters and later writes reject, reads go on', async () => {
  const inner = new GatedBackend();
  const wb = new WriteBuffer(inner, { flushDelayMs: 0 });
  await wb.write((t) => t.put('a', b('k'), b('v')));
  const durable = wb.whenDurable(1);
  await settle();
  inner.fail();
  await assert.rejects(durable, /inner write failed/);
  await assert.rejects(wb.write((t) => t.put('a', b('k2'), b('v'))), /inner write failed/);
  await assert.rejects(wb.flush(), /inner write failed/);
  assert.equal(wb.read((t) => t.get('a', b('k'))?.toString()), 'v');
});

test('put hands its arrays over: reads and the inner commit get the very arrays written, no copies', async () => {
  const inner = new GatedBackend();
  const wb = new WriteBuffer(inner, { flushDelayMs: 0 });
  const key = b('key');
  const value = b('value');
  await wb.write((t) => t.put('a', key, value));
  // Identity, not equality: a copy per put was two allocations per key on the write path.
  assert.equal(wb.read((t) => t.get('a', b('key'))), value);
  const [entry] = [...wb.read((t) => t.iterate('a'))];
  assert.equal(entry!.key, key);
  inner.release();
  await wb.flush();
  assert.deepEqual(dump(inner, ['a']), ['a:key=value']);
});

test('over the real LmdbBackend: applied reads, flush, and the state after reopening', async () => {
  const dir = createTempDir('write-buffer-lmdb-');
  try {
    const wb = new WriteBuffer(LmdbBackend.open({ path: dir }), { flushDelayMs: 0 });
    for (let i = 0; i < 200; i++) void wb.write((t) => t.put(DB.kv, b(`k${String(i).padStart(3, '0')}`), b(`v${i}`)));
    await wb.write((t) => t.del(DB.kv, b('k100')));
    const view = wb.read((t) => [...t.iterate(DB.kv, { start: b('k098'), end: b('k103') })].map((e) => e.key.toString()));
    assert.deepEqual(view, ['k098', 'k099', 'k101', 'k102']);
    const reversed = wb.read((t) => [...t.iterate(DB.kv, { reverse: true, limit: 2 })].map((e) => e.key.toString()));
    assert.deepEqual(reversed, ['k199', 'k198']);
    // Flushed: nothing pending, so reads go straight to LMDB, with the same answers.
    await wb.flush();
    assert.deepEqual(wb.read((t) => [...t.iterate(DB.kv, { start: b('k098'), end: b('k103') })].map((e) => e.key.toString())), view);
    assert.deepEqual(wb.read((t) => [...t.iterate(DB.kv, { reverse: true, limit: 2 })].map((e) => e.key.toString())), reversed);
    assert.equal(wb.read((t) => t.get(DB.kv, b('k100'))), undefined);
    assert.equal(wb.read((t) => t.get(DB.kv, b('k101')))?.toString(), 'v101');
    await wb.close();
    const reopened = LmdbBackend.open({ path: dir });
    try {
      const keys = reopened.read((t) => [...t.iterate(DB.kv)].map((e) => e.key.toString()));
      assert.equal(keys.length, 199);
      assert.ok(!keys.includes('k100'));
    } finally {
      await reopened.close();
    }
  } finally {
    removeTempDir(dir);
  }
});

test('with a flush delay, batches written over several turns share one inner commit; flush() does not wait', async () => {
  const inner = new GatedBackend();
  inner.hold = false;
  const wb = new WriteBuffer(inner, { flushDelayMs: 200 });
  for (let i = 0; i < 5; i++) {
    await wb.write((t) => t.put('a', b(`k${i}`), b('v')));
    await settle();
  }
  assert.equal(inner.writes, 0, 'committed before the delay ran out');
  assert.equal(wb.read((t) => t.get('a', b('k4'))?.toString()), 'v', 'buffered batches are readable meanwhile');
  const started = Date.now();
  await wb.flush();
  assert.ok(Date.now() - started < 150, 'flush() waited for the delay');
  assert.equal(inner.writes, 1, 'five batches, one inner commit');
  assert.deepEqual(dump(inner, DBS), ['a:k0=v', 'a:k1=v', 'a:k2=v', 'a:k3=v', 'a:k4=v']);
});

test('LmdbBackend.writeChanges: puts and deletes land in order, across dbs, durable once resolved', async () => {
  const dir = createTempDir('lmdb-changes-');
  try {
    const db = LmdbBackend.open({ path: dir });
    await db.writeChanges([]);
    await db.writeChanges([
      [DB.kv, b('a'), b('1')], [DB.kv, b('a'), b('2')],
      [DB.kv, b('gone'), b('x')], [DB.kv, b('gone'), null],
      [DB.meta, b('m'), b('meta')],
      [DB.kv, b('back'), null], [DB.kv, b('back'), b('again')],
    ]);
    await db.close();
    const reopened = LmdbBackend.open({ path: dir });
    try {
      const kv = reopened.read((t) => [...t.iterate(DB.kv)].map((e) => `${e.key}=${e.value}`));
      assert.deepEqual(kv, ['a=2', 'back=again'], 'the last change to a key wins; a delete removes');
      assert.equal(reopened.read((t) => t.get(DB.meta, b('m'))?.toString()), 'meta');
    } finally {
      await reopened.close();
    }
  } finally {
    removeTempDir(dir);
  }
});

test('stats count buffered batches before the inner backend commits them (a quota sees writes as they apply)', async () => {
  const inner = new MemBackend();
  const buf = new WriteBuffer(inner, { flushDelayMs: 60_000 });
  const before = buf.stats().sizeInUseBytes;
  await buf.write((txn) => txn.put(DB.kv, Buffer.from('k'), Buffer.alloc(64 * 1024)));
  assert.equal(inner.stats().sizeInUseBytes, before, 'nothing reached the inner backend yet');
  assert.ok(buf.stats().sizeInUseBytes >= before + 64 * 1024, `in use ${buf.stats().sizeInUseBytes}`);
  // Committed within the same measurement window, it still counts (from the batch's size).
  await buf.flush();
  assert.ok(buf.stats().sizeInUseBytes >= before + 64 * 1024);
  await buf.close();
});
