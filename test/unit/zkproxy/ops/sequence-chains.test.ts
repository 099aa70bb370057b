/**
 * SequenceChains (zkproxy/ops/sequence-chains.ts): per parent, the sequential creates in flight,
 * the parent as the last of them leaves it, and the waits: behind a failed link a new create waits
 * for the last one; chains of different parents are independent; a completed link leaves.
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
  assert.equal(c.lastDone('/q'), undefined);
  const a = c.link('/q', after('/q', 1));
  const b = c.link('/q', after('/q', 2));
  assert.equal(b.prev, a);
  assert.equal(c.tail('/q').after, b.after);
  assert.deepEqual(c.tail('/other'), {}, 'another parent has its own chain');
  c.complete('/q', a);
  assert.equal(c.tail('/q').after, b.after);
  c.complete('/q', b);
  assert.deepEqual(c.tail('/q'), {});
});

test('behind a failed link, a new create waits for the last link to complete', async () => {
  const c = new SequenceChains();
  const a = c.link('/q', after('/q', 1));
  const b = c.link('/q', after('/q', 2));
  a.failed = true;
  const { after: pending, wait } = c.tail('/q');
  assert.equal(pending, undefined);
  assert.ok(wait);
  let waited = false;
  const w = wait.then(() => (waited = true));
  c.complete('/q', a);
  await Promise.resolve();
  assert.equal(waited, false, 'the first link completing is not enough: the last is b');
  c.complete('/q', b);
  await w;
  assert.equal(waited, true);
  assert.deepEqual(c.tail('/q'), {});
});

test('lastDone resolves when the last create in flight completes', async () => {
  const c = new SequenceChains();
  const a = c.link('/q', after('/q', 1));
  const done = c.lastDone('/q');
  assert.ok(done);
  let resolved = false;
  void done.then(() => (resolved = true));
  await Promise.resolve();
  assert.equal(resolved, false);
  c.complete('/q', a);
  await done;
  assert.equal(resolved, true);
});
