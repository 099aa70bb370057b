import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights } from '../../../../../core/raft/tracker/inflights';
import { AssertionError } from '../../../../../core/util/assert';

test('Inflights: fills by count and frees in order', () => {
  const f = new Inflights(3);
  f.add(1, 10);
  f.add(2, 10);
  assert.equal(f.full(), false);
  f.add(5, 10);
  assert.equal(f.full(), true);
  assert.equal(f.count(), 3);
  assert.equal(f.bytes(), 30);
  assert.throws(() => f.add(6, 1), AssertionError);
  f.freeLE(2);
  assert.equal(f.count(), 1);
  assert.equal(f.bytes(), 10);
  assert.equal(f.full(), false);
});

test('Inflights: byte budget', () => {
  const cases = [
    { name: 'under budget', adds: [40, 50], maxBytes: 100, full: false },
    { name: 'exactly at budget is full', adds: [50, 50], maxBytes: 100, full: true },
    { name: 'one oversized message fills it', adds: [500], maxBytes: 100, full: true },
    { name: 'zero means unlimited', adds: [1e9, 1e9], maxBytes: 0, full: false },
  ];
  for (const c of cases) {
    const f = new Inflights(10, c.maxBytes);
    c.adds.forEach((b, i) => f.add(i + 1, b));
    assert.equal(f.full(), c.full, c.name);
  }
});

test('Inflights: ring wraps around many times', () => {
  const f = new Inflights(4, 0);
  let next = 1;
  let freed = 0;
  for (let round = 0; round < 50; round++) {
    while (!f.full()) f.add(next++, 1);
    freed += 2;
    f.freeLE(freed);
    assert.equal(f.count(), next - 1 - freed, `round ${round}`);
  }
  f.freeLE(next);
  assert.equal(f.count(), 0);
  assert.equal(f.bytes(), 0);
});

test('Inflights: freeLE below the oldest is a no-op; indexes must increase', () => {
  const f = new Inflights(4);
  f.add(10, 1);
  f.freeLE(5);
  assert.equal(f.count(), 1);
  assert.throws(() => f.add(10, 1), AssertionError);
  f.reset();
  assert.equal(f.count(), 0);
  f.add(3, 1);
  assert.equal(f.clone().count(), 1);
});
