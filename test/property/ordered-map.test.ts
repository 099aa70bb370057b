/**
 * OrderedMap against a naive model (a plain Map plus sort): random inserts, deletes, range
 * scans and forEach must agree exactly, including iteration order and reverse iteration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OrderedMap } from '../../core/util/ordered-map';

const keyArb = fc.string({ minLength: 0, maxLength: 4, unit: fc.constantFrom('a', 'b', 'c', '\0', '\xff', 'z') });
const opArb = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: keyArb, value: fc.integer() }),
  fc.record({ op: fc.constant('del' as const), key: keyArb }),
);

test('OrderedMap agrees with a sorted Map model', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 600 }), keyArb, fc.option(keyArb), (ops, start, end) => {
      const map = new OrderedMap<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.op === 'set') {
          map.set(o.key, o.value);
          model.set(o.key, o.value);
        } else {
          assert.equal(map.delete(o.key), model.delete(o.key));
        }
      }
      assert.equal(map.size, model.size);
      const sorted = [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const want = sorted.filter(([k]) => k >= start && (end === null || k < end));
      assert.deepEqual([...map.range(start, end ?? undefined)], want);
      assert.deepEqual([...map.rangeReverse(start, end ?? undefined)], [...want].reverse());
      const walked: [string, number][] = [];
      map.forEach((k, v) => walked.push([k, v]));
      assert.deepEqual(walked, sorted, 'forEach visits every entry in key order');
      for (const [k, v] of model) assert.equal(map.get(k), v);
    }),
    { numRuns: 300 },
  );
});

test('OrderedMap keeps order through many splits and merges', () => {
  const map = new OrderedMap<number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) map.set(String(i * 7919 % n).padStart(6, '0'), i);
  assert.equal(map.size, n);
  let prev = '';
  let seen = 0;
  for (const [k] of map.range('')) {
    assert.ok(k > prev || seen === 0);
    prev = k;
    seen++;
  }
  assert.equal(seen, n);
  let walked = 0;
  let last = '';
  map.forEach((k) => {
    assert.ok(walked === 0 || k > last, 'forEach in key order across leaves');
    last = k;
    walked++;
  });
  assert.equal(walked, n);
  for (let i = 0; i < n; i += 2) assert.ok(map.delete(String(i).padStart(6, '0')));
  assert.equal(map.size, n / 2);
  assert.equal([...map.range('')].length, n / 2);
  assert.equal(map.get('000001'), [...map.range('000001', '000002')][0]![1]);
});
