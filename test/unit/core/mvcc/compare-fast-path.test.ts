/**
 * A txn compare on version, create, mod or lease of one key is answered from the key index
 * (`KvWriteTxn.keyMeta`) instead of reading the record. Property: over random histories of puts,
 * deletes, re-creates and lease changes on the real LMDB backend, every such compare gives the
 * same answer through the fast path as through a full range read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { KvStore } from '../../../../core/mvcc/kv-store';
import { Lessor } from '../../../../core/lease/lessor';
import { AlarmStore } from '../../../../core/apply/alarm-store';
import { Applier } from '../../../../core/apply/applier';
import { ApplyBody } from '../../../../core/apply/apply-request';
import { ManualClock } from '../../../../core/util/clock';
import { SeededRand } from '../../../../core/util/rand';
import { applyCompare, TxnView } from '../../../../core/mvcc/txn-runner';
import { type Compare, CompareResult, CompareTarget } from '../../../../core/mvcc/kv-types';

const KEYS = ['a', 'b', 'c'];
const LEASES = [0n, 7n, 8n];
const STEPS = 300;

function body(rand: SeededRand): ApplyBody {
  const key = Buffer.from(KEYS[rand.intn(KEYS.length)]!);
  if (rand.intn(4) === 0) return { type: 'deleteRange', deleteRange: { key, rangeEnd: Buffer.alloc(0), prevKv: false } };
  const lease = LEASES[rand.intn(LEASES.length)]!;
  return { type: 'put', put: { key, value: Buffer.from(`v${rand.intn(1000)}`), lease, prevKv: false, ignoreValue: false, ignoreLease: false } };
}

function compares(rev: number): Compare[] {
  const out: Compare[] = [];
  const targets = [CompareTarget.Version, CompareTarget.Create, CompareTarget.Mod, CompareTarget.Lease];
  const results = [CompareResult.Equal, CompareResult.NotEqual, CompareResult.Greater, CompareResult.Less];
  for (const k of [...KEYS, 'never-written']) {
    for (const target of targets) {
      for (const result of results) {
        // Operands around the interesting values: 0, small versions, and revisions near now.
        for (const number of [0, 1, 2, Math.max(0, rev - 2), rev, rev + 1]) {
          out.push({ target, result, key: Buffer.from(k), rangeEnd: Buffer.alloc(0), number, value: Buffer.alloc(0), lease: LEASES[number % LEASES.length]! });
        }
      }
    }
  }
  return out;
}

test('single-key compares answered from the key index agree with a full read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coracle-compare-'));
  const backend = LmdbBackend.open({ path: dir, noSync: true });
  try {
    const kv = new KvStore(backend);
    const lessor = new Lessor(new ManualClock(), 2);
    const applier = new Applier(kv, lessor, new AlarmStore());
    const header = { id: 1n, username: '', authRevision: 0 };
    await backend.write((txn) => {
      for (const id of LEASES) if (id !== 0n) applier.apply(txn, { header, body: { type: 'leaseGrant', id, ttl: 3600 } });
    });
    const rand = new SeededRand(42);
    let checked = 0;
    let fastTrue = 0;
    for (let step = 0; step < STEPS; step++) {
      await backend.write((txn) => {
        applier.apply(txn, { header, body: body(rand) });
        const w = kv.beginWrite(txn, lessor);
        assert.ok(w.keyMeta, 'the write view offers the fast path');
        const slow: TxnView = { range: (req) => w.range(req), checkRange: (req) => w.checkRange(req), revision: () => w.revision() };
        for (const c of compares(kv.currentRevision)) {
          const fast = applyCompare(w, c);
          assert.equal(fast, applyCompare(slow, c), `step ${step}: target ${c.target} result ${c.result} ${c.number}/${c.lease} on ${c.key}`);
          checked++;
          if (fast) fastTrue++;
        }
      });
      kv.markDurable(kv.currentRevision);
    }
    // Both answers occur, so agreement is not vacuous.
    assert.ok(fastTrue > checked / 10 && fastTrue < checked - checked / 10, `${fastTrue} of ${checked} true`);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
