import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { median, roundOrder } from '../../../bench/lib/rounds';

test('median: the middle value, the mean of the two middle ones for an even count, NaN for none', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 10]), 3.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  assert.equal(median([1, Infinity, Infinity]), Infinity);
});

test('median leaves its input unsorted', () => {
  const values = [3, 1, 2];
  median(values);
  assert.deepEqual(values, [3, 1, 2]);
});

test('roundOrder: as given in even rounds, reversed in odd ones, never the caller\'s array', () => {
  const servers = ['zookeeper', 'coracle', 'etcd'];
  assert.deepEqual(roundOrder(servers, 0), ['zookeeper', 'coracle', 'etcd']);
  assert.deepEqual(roundOrder(servers, 1), ['etcd', 'coracle', 'zookeeper']);
  assert.deepEqual(roundOrder(servers, 2), ['zookeeper', 'coracle', 'etcd']);
  assert.notEqual(roundOrder(servers, 0), servers);
  assert.deepEqual(servers, ['zookeeper', 'coracle', 'etcd']);
});
