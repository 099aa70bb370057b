/**
 * SequenceChains (zkproxy/ops/sequence-chains.ts): per parent, the sequential creates in flight,
 * the parent as the last of them leaves it, and when that last one completes; a failed link marks
 * the chain broken until it drains; chains of different parents are independent; a completed link
 * leaves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceChains } from '../../../../zkproxy/ops/sequence-chains';
import type { PendingParent } from '../../../../zkproxy/ops/txn-plan';

function after(path: string, creates: number): PendingParent {
  return { path, creates, cversion: creates, counterVersion: creates + 1, offset: 0, lastChild: `${path}/s-${creates}` };
}

test('a new create plans on the last link of its parent, and on the replica once the chain is empty', () => {
  const c = new SequenceChains();
  assert.deepEqual(c.tail('/q'), {});
  const a = c.link('/q', after('/q', 1));
  const b = c.link('/q', after('/q', 2));
  assert.equal(b.prev, a);
  assert.equal(c.tail('/q').after, b.after);
  assert.equal(c.tail('/q').last, b.done);
  assert.equal(c.tail('/q').broken, false);
  assert.deepEqual(c.tail('/other'), {}, 'another parent has its own chain');
  c.complete('/q', a);
  assert.equal(c.tail('/q').after, b.after);
  c.complete('/q', b);
  assert.deepEqual(c.tail('/q'), {});
});

test('behind a failed link the chain is broken until its last link completes', async () => {
  const c = new SequenceChains();
  const a = c.link('/q', after('/q', 1));
  const b = c.link('/q', after('/q', 2));
  a.failed = true;
  const { broken, last } = c.tail('/q');
  assert.equal(broken, true);
  assert.ok(last);
  let completed = false;
  const w = last.then(() => (completed = true));
  c.complete('/q', a);
  await Promise.resolve();
  assert.equal(completed, false, 'the first link completing is not enough: the last is b');
  assert.equal(c.tail('/q').broken, false, 'the failed link left');
  c.complete('/q', b);
  await w;
  assert.equal(completed, true);
  assert.deepEqual(c.tail('/q'), {});
});
