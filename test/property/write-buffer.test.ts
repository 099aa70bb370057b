/**
 * WriteBuffer against a naive model (MemBackend given the same batches, each committed at once):
 * random sequences of batches (puts, deletes, and iterations inside the batch), inner commits
 * released at random points, and reads with random bounds, direction and limit. At every step:
 * - reads and in-batch iterations through the buffer equal the model's;
 * - the inner backend's state equals the model's state after batch `durableSeq` (a prefix);
 * and at the end, after a flush, the inner backend holds exactly the model's state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IterateOptions, WriteTxn } from '../../core/storage/backend';
import { MemBackend } from '../../core/storage/mem-backend';
import { WriteBuffer } from '../../core/storage/write-buffer';
import { dump, GatedBackend, settle } from '../unit/core/storage/write-buffer-fixtures';

const DBS = ['a', 'b'];
const keyArb = fc.string({ minLength: 0, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', '\0', '\xff') });
const dbArb = fc.constantFrom(...DBS);
const iterArb = fc.record({
  db: dbArb,
  start: fc.option(keyArb, { nil: undefined }),
  end: fc.option(keyArb, { nil: undefined }),
  reverse: fc.boolean(),
  limit: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
});
type IterSpec = { db: string; start?: string; end?: string; reverse: boolean; limit?: number };

const txnOpArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('put' as const), db: dbArb, key: keyArb, value: fc.string({ maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), db: dbArb, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('get' as const), db: dbArb, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('iter' as const), spec: iterArb }) },
);
const stepArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ step: fc.constant('write' as const), ops: fc.array(txnOpArb, { maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ step: fc.constant('release' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ step: fc.constant('read' as const), spec: iterArb, key: keyArb }) },
);

function options(spec: IterSpec): IterateOptions {
  const o: IterateOptions = { reverse: spec.reverse };
  if (spec.start !== undefined) o.start = Buffer.from(spec.start, 'latin1');
  if (spec.end !== undefined) o.end = Buffer.from(spec.end, 'latin1');
  if (spec.limit !== undefined) o.limit = spec.limit;
  return o;
}

function iterate(txn: Pick<WriteTxn, 'iterate'>, spec: IterSpec): string[] {
  return [...txn.iterate(spec.db, options(spec))].map((e) => `${e.key.toString('latin1')}=${e.value.toString('latin1')}`);
}

type TxnOp = { op: 'put'; db: string; key: string; value: string } | { op: 'del'; db: string; key: string } | { op: 'get'; db: string; key: string } | { op: 'iter'; spec: IterSpec };

/** Runs a batch's ops; returns what its reads saw. */
function runOps(txn: WriteTxn, ops: readonly TxnOp[]): string[][] {
  const seen: string[][] = [];
  for (const o of ops) {
    if (o.op === 'put') txn.put(o.db, Buffer.from(o.key, 'latin1'), Buffer.from(o.value, 'latin1'));
    else if (o.op === 'del') txn.del(o.db, Buffer.from(o.key, 'latin1'));
    else if (o.op === 'get') seen.push([txn.get(o.db, Buffer.from(o.key, 'latin1'))?.toString('latin1') ?? '<none>']);
    else seen.push(iterate(txn, o.spec));
  }
  return seen;
}

test('WriteBuffer agrees with a MemBackend model; the inner state is always a prefix', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { maxLength: 40 }), fc.constantFrom(1, 1 << 20), async (steps, maxFlushBytes) => {
      const inner = new GatedBackend();
      const wb = new WriteBuffer(inner, { maxFlushBytes, maxBufferedBytes: 4096, flushDelayMs: 0 });
      const model = new MemBackend();
      const states: string[][] = [[]];
      for (const s of steps) {
        if (s.step === 'write') {
          let got: string[][] = [];
          void wb.write((t) => (got = runOps(t, s.ops)));
          const want = await model.write((t) => runOps(t, s.ops));
          assert.deepEqual(got, want, 'reads inside a batch');
          states.push(dump(model, DBS));
        } else if (s.step === 'release') {
          await settle();
          for (let i = 0; i < s.n && inner.pending > 0; i++) {
            inner.release();
            await settle();
          }
        } else {
          assert.deepEqual(
            wb.read((t) => iterate(t, s.spec)),
            model.read((t) => iterate(t, s.spec)),
            `read ${JSON.stringify(s.spec)}`,
          );
          const k = Buffer.from(s.key, 'latin1');
          assert.equal(wb.read((t) => t.get(s.spec.db, k)?.toString('latin1')), model.read((t) => t.get(s.spec.db, k)?.toString('latin1')));
        }
        assert.deepEqual(dump(inner.crashState(), DBS), states[wb.durableSeq], `inner state after batch ${wb.durableSeq}`);
      }
      inner.hold = false;
      while (inner.pending > 0) inner.release();
      await wb.flush();
      assert.deepEqual(dump(inner, DBS), dump(model, DBS), 'final inner state');
      assert.deepEqual(dump(wb, DBS), dump(model, DBS), 'final view');
      assert.equal(wb.bufferedBytes, 0);
    }),
    { numRuns: 300 },
  );
});
