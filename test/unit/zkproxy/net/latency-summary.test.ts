/** `LatencySummary`: the readlatency and updatelatency summaries of the Prometheus text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencySummary } from '../../../../zkproxy/net/latency-summary';

test('quantiles are the observations at rank ⌊q·n⌋; count and sum take whole ms', () => {
  const s = new LatencySummary(() => 0);
  assert.ok(Number.isNaN(s.quantile(0.5)), 'an empty window has no quantile');
  for (let ms = 1; ms <= 100; ms++) s.observe(ms - 0.4); // rounds to 1..100
  s.observe(-3); // a clock step back counts as 0
  assert.equal(s.count, 101);
  assert.equal(s.sum, 5050);
  assert.equal(s.quantile(0), 0);
  assert.equal(s.quantile(0.5), 50);
  assert.equal(s.quantile(0.9), 90);
  assert.equal(s.quantile(0.99), 99);
  assert.equal(s.quantile(1), 100);
});

test('the window forgets what is ten minutes old, step by step; count and sum never do', () => {
  let now = 0;
  const s = new LatencySummary(() => now);
  s.observe(500);
  now = 130_000; // the next two-minute step
  s.observe(1);
  s.observe(1);
  assert.equal(s.quantile(0.99), 500, 'still in the window');
  now = 600_000; // the first step is ten minutes old
  assert.equal(s.quantile(0.99), 1);
  now = 730_000;
  assert.ok(Number.isNaN(s.quantile(0.5)), 'everything aged out');
  assert.equal(s.count, 3);
  assert.equal(s.sum, 502);
});
