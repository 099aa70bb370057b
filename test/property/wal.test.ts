/**
 * Wal against a naive model of a Raft log (an array with Raft's append and snapshot rules):
 * random appends (including overwrites of a suffix), snapshot markers (matching and
 * conflicting), hard states, releases and reopens, with small segments so that batches cross
 * segment cuts. After every reopen the replay equals the model: the same entries above the
 * reported compaction point, the same last index and hard state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emptyConfState, HardState } from '../../core/raft/types';
import { Wal, WalOptions } from '../../core/storage/wal';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { entry } from '../unit/core/storage/wal-fixtures';

const stepArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ step: fc.constant('append' as const), back: fc.nat(3), count: fc.integer({ min: 1, max: 6 }), bump: fc.boolean(), size: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant('snapshot' as const), ahead: fc.integer({ min: -3, max: 2 }), matching: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ step: fc.constant('release' as const), back: fc.nat(8) }) },
  { weight: 1, arbitrary: fc.constant({ step: 'reopen' as const }) },
);

/** The model: terms by index above a compaction point. */
class ModelLog {
  compacted = { index: 0, term: 0 };
  terms: number[] = []; // terms[i] is the term of index compacted.index + 1 + i
  get last(): number {
    return this.compacted.index + this.terms.length;
  }
  termAt(i: number): number | undefined {
    if (i === this.compacted.index) return this.compacted.term;
    return this.terms[i - this.compacted.index - 1];
  }
  append(first: number, terms: number[]): void {
    this.terms.length = first - this.compacted.index - 1;
    this.terms.push(...terms);
  }
  snapshot(index: number, term: number): void {
    if (index <= this.compacted.index) return;
    if (this.termAt(index) === term) this.terms = this.terms.slice(index - this.compacted.index);
    else this.terms = [];
    this.compacted = { index, term };
  }
}

test('Wal replays what a model Raft log holds, across cuts, snapshots, releases and reopens', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { maxLength: 40 }), fc.constantFrom(2048, 8192), async (steps, segmentBytes) => {
      const dir = createTempDir('wal-prop-');
      const opts: WalOptions = { segmentBytes, pipeline: false };
      let { wal } = await Wal.open(dir, opts);
      try {
        const model = new ModelLog();
        let term = 1;
        let released = 0;
        let hardState: HardState | undefined;
        const check = async () => {
          await wal.close();
          const opened = await Wal.open(dir, opts);
          wal = opened.wal;
          const r = opened.replay;
          assert.equal(r.lastIndex, model.last, 'last index');
          assert.ok(r.compacted.index >= model.compacted.index && r.compacted.index <= Math.max(released, model.compacted.index), 'compaction point');
          assert.equal(r.compacted.term, model.termAt(r.compacted.index), 'compaction term');
          const want = [];
          for (let i = r.compacted.index + 1; i <= model.last; i++) want.push(`${i}/${model.termAt(i)}`);
          assert.deepEqual(r.entries.map((e) => `${e.index}/${e.term}`), want, 'entries');
          assert.deepEqual(r.hardState, hardState, 'hard state');
        };
        for (const s of steps) {
          if (s.step === 'append') {
            // Raft never overwrites at or below what the state machine durably applied (released).
            const first = Math.max(model.last + 1 - s.back, model.compacted.index + 1, released + 1);
            if (s.bump) term++;
            const batch = Array.from({ length: s.count }, (_, i) => entry(first + i, term, s.size));
            hardState = { term, vote: 0n, commit: Math.max(released, model.compacted.index) };
            await wal.append({ entries: batch, hardState });
            model.append(first, batch.map((e) => e.term));
          } else if (s.step === 'snapshot') {
            const index = Math.max(model.compacted.index + 1, model.last + s.ahead, released);
            const t = s.matching ? model.termAt(index) ?? term : term + 1;
            if (!s.matching) term++;
            await wal.append({ snapshot: { index, term: t, confState: emptyConfState() } });
            model.snapshot(index, t);
          } else if (s.step === 'release') {
            released = Math.max(released, Math.min(model.last, model.last - s.back));
            await wal.releaseTo(released);
          } else {
            await check();
          }
        }
        await check();
      } finally {
        await wal.close();
        removeTempDir(dir);
      }
    }),
    { numRuns: 1000 },
  );
});
