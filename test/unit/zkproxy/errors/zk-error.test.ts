/**
 * ZkError is an everyday reply (NONODE, NODEEXISTS, BADVERSION), not a fault: it must not pay
 * for a stack trace, and building one must leave the process's stack trace limit as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../../../protocol/jute';
import { ZkError, fail, toZkCode } from '../../../../zkproxy/errors/zk-error';

test('a ZkError carries its code and message but no stack frames', () => {
  const e = new ZkError(ZkErr.NONODE, '/missing');
  assert.equal(e.code, ZkErr.NONODE);
  assert.equal(e.message, 'NONODE: /missing');
  assert.ok(e instanceof Error);
  assert.equal(e.stack, 'ZkError: NONODE: /missing', 'no "at ..." frames');
  assert.throws(() => fail(ZkErr.BADVERSION), (t: unknown) => t instanceof ZkError && toZkCode(t) === ZkErr.BADVERSION);
});

test('other errors keep their stacks: the limit is restored after each ZkError', () => {
  const before = Error.stackTraceLimit;
  new ZkError(ZkErr.NODEEXISTS);
  assert.equal(Error.stackTraceLimit, before);
  assert.match(new Error('fault').stack ?? '', /\n\s+at /);
});
