/** WatcherIndex: single-key watchers found by key, range watchers by the keys their range holds, counts kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Watcher } from '../../../../core/mvcc/watcher';
import { WatcherIndex } from '../../../../core/mvcc/watcher-index';

const owner = { cancel: () => undefined, resume: () => undefined };
const sink = { send: () => true, compacted: () => undefined };
const options = { key: Buffer.alloc(0), rangeEnd: Buffer.alloc(0), startRevision: 0, prevKv: false, noPut: false, noDelete: false };
let ids = 0;
const single = (key: string): Watcher => new Watcher(++ids, key, `${key}\0`, true, options, sink, 1, owner);
const range = (start: string, end: string | undefined): Watcher => new Watcher(++ids, start, end, false, options, sink, 1, owner);
const holding = (ix: WatcherIndex, key: string): Watcher[] => {
  const out: Watcher[] = [];
  ix.forEachHolding(key, (w) => out.push(w));
  return out;
};

test('watchers by key, range watchers by the keys they hold, size and removal', () => {
  const ix = new WatcherIndex();
  const a1 = single('a');
  const a2 = single('a');
  const b = single('b');
  const r = range('a', 'c');
  for (const w of [a1, a2, b, r, a1]) ix.add(w);
  assert.equal(ix.size, 4, 'adding a watcher twice holds it once');
  assert.deepEqual([...ix.ofKey('a')], [a1, a2]);
  assert.deepEqual([...ix.ofKey('z')], []);
  assert.deepEqual(holding(ix, 'a'), [a1, a2, r]);
  assert.deepEqual(holding(ix, 'bz'), [r]);
  assert.deepEqual(holding(ix, 'c'), [], 'the end is exclusive');
  assert.equal(ix.all().length, 4);
  assert.equal(ix.delete(a1), true);
  assert.equal(ix.delete(a1), false);
  assert.equal(ix.delete(r), true);
  assert.deepEqual([...ix.ofKey('a')], [a2]);
  assert.deepEqual(holding(ix, 'a'), [a2]);
  assert.equal(ix.size, 2);
  ix.delete(a2);
  assert.deepEqual([...ix.ofKey('a')], [], 'an emptied key leaves nothing behind');
  assert.deepEqual(ix.all(), [b]);
  assert.equal(ix.size, 1);
});

test('range watchers: only those whose range holds the key, unbounded ends included', () => {
  const ix = new WatcherIndex();
  const all = range('\0', undefined);
  const fromM = range('m', undefined);
  const prefixes = Array.from({ length: 1000 }, (_, i) => range(`/p/${i}/`, `/p/${i}0`));
  for (const w of [all, fromM, ...prefixes]) ix.add(w);
  assert.deepEqual(holding(ix, '/p/7/k'), [all, prefixes[7]]);
  assert.deepEqual(holding(ix, '/p/70/k'), [all, prefixes[70]]);
  assert.deepEqual(holding(ix, 'z'), [all, fromM]);
  assert.deepEqual(holding(ix, ''), [], 'the empty key is below every start here');
  ix.delete(prefixes[7]!);
  assert.deepEqual(holding(ix, '/p/7/k'), [all]);
  assert.equal(ix.size, 1001);
});
