/** PathUtils.validatePath rules (zk-protocol.md §2.9) and path arithmetic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseName, depth, isUnder, parentOf, pathProblem } from '../../../../zkproxy/mapping/path-rules';

const cases: [string, boolean][] = [
  ['/', true], ['/a', true], ['/a/b.c', true], ['/a/..b', true], ['/a/.b', true], ['/zookeeper', true], ['/é/ü', true],
  ['', false], ['a', false], ['/a/', false], ['//a', false], ['/a//b', false], ['/a\u0000b', false], ['/.', false], ['/a/.', false],
  ['/..', false], ['/a/../b', false], ['/a\u0001', false], ['/a\u001f', false], ['/a\u007f', false], ['/a\u009f', false],
  ['/a\ud800', false], ['/a\uf8ff', false], ['/a\ufff0', false], ['/a\uffff', false], ['/a\u00a0', true], ['/a\uf900', true],
];

for (const [path, valid] of cases) {
  test(`validatePath ${JSON.stringify(path)} is ${valid ? 'valid' : 'invalid'}`, () => {
    assert.equal(pathProblem(path) === undefined, valid, pathProblem(path) ?? "valid");
  });
}

test('parent, base name, depth and containment', () => {
  assert.equal(parentOf('/a'), '/');
  assert.equal(parentOf('/a/b/c'), '/a/b');
  assert.equal(baseName('/a/b'), 'b');
  assert.deepEqual([depth('/'), depth('/a'), depth('/a/b')], [0, 1, 2]);
  assert.ok(isUnder('/a/b', '/a'));
  assert.ok(isUnder('/a', '/a'));
  assert.ok(!isUnder('/ab', '/a'));
  assert.ok(isUnder('/x', '/'));
});
