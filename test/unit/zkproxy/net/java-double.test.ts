/** `javaDouble`: Java's Double.toString, as mntr, Jackson and the Prometheus text print numbers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { javaDouble } from '../../../../zkproxy/net/java-double';

test('numbers print as Java prints doubles', () => {
  assert.equal(javaDouble(5), '5.0');
  assert.equal(javaDouble(0), '0.0');
  assert.equal(javaDouble(-1), '-1.0');
  assert.equal(javaDouble(0.25), '0.25');
  assert.equal(javaDouble(1234567), '1234567.0');
  assert.equal(javaDouble(12345678), '1.2345678E7');
  assert.equal(javaDouble(1e7), '1.0E7');
  assert.equal(javaDouble(0.0005), '5.0E-4');
  assert.equal(javaDouble(NaN), 'NaN');
  assert.equal(javaDouble(Infinity), 'Infinity');
  assert.equal(javaDouble(-Infinity), '-Infinity');
});
