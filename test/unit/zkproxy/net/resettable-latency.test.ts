/** `ResettableLatency`: mntr's avg/min/max/cnt/sum and percentile rows of a latency summary. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResettableLatency } from '../../../../zkproxy/net/resettable-latency';

test('rows as ZooKeeper prints them: percentiles interpolated at q·(n+1), rounded', () => {
  const l = new ResettableLatency();
  assert.deepEqual(new Map(l.rows('readlatency')), new Map([
    ['avg_readlatency', 0], ['min_readlatency', 0], ['max_readlatency', 0], ['cnt_readlatency', 0], ['sum_readlatency', 0],
    ['p50_readlatency', 0], ['p95_readlatency', 0], ['p99_readlatency', 0], ['p999_readlatency', 0],
  ]));
  for (let ms = 100; ms >= 1; ms--) l.observe(ms);
  l.observe(2.6); // rounds to 3
  const rows = new Map(l.rows('readlatency'));
  assert.equal(rows.get('avg_readlatency'), 50.0297, '5053 / 101, 4 decimals');
  assert.equal(rows.get('min_readlatency'), 1);
  assert.equal(rows.get('max_readlatency'), 100);
  assert.equal(rows.get('cnt_readlatency'), 101);
  assert.equal(rows.get('sum_readlatency'), 5053);
  // Sorted: 1 2 3 3 4 ... 100; position q·102.
  assert.equal(rows.get('p50_readlatency'), 50, 'position 51: the 51st value, 50');
  assert.equal(rows.get('p95_readlatency'), 96, 'position 96.9: 95 + 0.9 → 95.9');
  assert.equal(rows.get('p99_readlatency'), 100, 'position 100.98: 99 + 0.98 → 99.98');
  assert.equal(rows.get('p999_readlatency'), 100, 'past the last: the largest');
});

test('the percentile sample stays at 4096 values; reset forgets everything', () => {
  let i = 0;
  const l = new ResettableLatency(true, () => ((i++ * 7919) % 10007) / 10007);
  for (let k = 0; k < 20_000; k++) l.observe(k < 10_000 ? 1 : 9);
  const rows = new Map(l.rows('updatelatency'));
  assert.equal(rows.get('cnt_updatelatency'), 20_000);
  assert.equal(rows.get('max_updatelatency'), 9);
  assert.equal(rows.get('p99_updatelatency'), 9, 'later values replace earlier ones in the sample');
  l.reset();
  assert.equal(new Map(l.rows('updatelatency')).get('cnt_updatelatency'), 0);
  assert.equal(new Map(l.rows('updatelatency')).get('p50_updatelatency'), 0);
});

test('without percentiles: ZooKeeper\'s AvgMinMaxCounter rows only', () => {
  const l = new ResettableLatency(false);
  l.observe(3);
  l.observe(4);
  assert.deepEqual(l.rows('latency'), [['avg_latency', 3.5], ['min_latency', 3], ['max_latency', 4], ['cnt_latency', 2], ['sum_latency', 7]]);
  assert.equal(l.avg(), 3.5);
  assert.equal(l.min, 3);
});
