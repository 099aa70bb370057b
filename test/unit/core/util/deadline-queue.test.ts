/**
 * DeadlineQueue (core/util/deadline-queue.ts): withTimeout's contract for many operations with
 * one shared timeout, one timer among them: settled operations pass their value or error
 * through and leave the queue; only the unsettled ones expire, each once, with `timeout`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineQueue } from '../../../../core/util/deadline-queue';
import { CoreError } from '../../../../core/util/core-error';

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('settled operations pass their outcome through and leave the queue', async () => {
  const q = new DeadlineQueue(10_000);
  const a = deferred<number>();
  const b = deferred<number>();
  const pa = q.within(a.promise, () => assert.fail('cleanup of a settled operation'));
  const pb = q.within(b.promise, () => assert.fail('cleanup of a settled operation'));
  assert.equal(q.size, 2);
  b.reject(new Error('apply error'));
  await assert.rejects(pb, /apply error/);
  assert.equal(q.size, 2, 'b waits behind the running a');
  a.resolve(7);
  assert.equal(await pa, 7);
  assert.equal(q.size, 0);
});

test('only the operations still running at their deadline expire, once each', async () => {
  // The queue's timer does not hold the process open (the operations' own I/O does): hold it here.
  const hold = setTimeout(() => {}, 5000);
  const q = new DeadlineQueue(80);
  const slow = deferred<string>();
  const quick = deferred<string>();
  const cleaned: string[] = [];
  const ps = q.within(slow.promise, () => cleaned.push('slow'));
  const pq = q.within(quick.promise, () => cleaned.push('quick'));
  quick.resolve('done');
  assert.equal(await pq, 'done');
  const started = performance.now();
  await assert.rejects(ps, (e: unknown) => e instanceof CoreError && e.code === 'timeout');
  assert.ok(performance.now() - started >= 60, 'expired before its deadline');
  slow.resolve('late');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(cleaned, ['slow']);
  assert.equal(q.size, 0);
  // Later operations get their own full timeout.
  const later = deferred<number>();
  const pl = q.within(later.promise, () => {});
  await new Promise((r) => setTimeout(r, 40));
  later.resolve(1);
  assert.equal(await pl, 1);
  clearTimeout(hold);
});
