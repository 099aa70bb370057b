/**
 * The log entry codec: every request kind round-trips exactly (negative int64 lease ids
 * included), and every truncation or trailing garbage is a DecodeError, never another exception
 * (a corrupt log entry must be reported, not crash the apply loop with a RangeError).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeApplyRequest, encodeApplyRequest } from '../../../../core/apply/apply-codec';
import { ApplyBody, ApplyRequest } from '../../../../core/apply/apply-request';
import { DecodeError } from '../../../../core/util/decode-error';

const b = (s: string) => Buffer.from(s);
const range = { key: b('a'), rangeEnd: b('b'), limit: 3, revision: 7, sortOrder: 2, sortTarget: 4, serializable: true, keysOnly: false, countOnly: true, minModRevision: 1, maxModRevision: 2, minCreateRevision: 3, maxCreateRevision: 4 };
const put = { key: b('k'), value: b('v'), lease: -5n, prevKv: true, ignoreValue: false, ignoreLease: true };

const CASES: Array<{ name: string; body: ApplyBody }> = [
  { name: 'put', body: { type: 'put', put } },
  { name: 'deleteRange', body: { type: 'deleteRange', deleteRange: { key: b('a'), rangeEnd: b('\0'), prevKv: true } } },
  { name: 'nested txn', body: { type: 'txn', txn: {
    compare: [{ result: 3, target: 4, key: b('c'), rangeEnd: b(''), number: 0, value: b(''), lease: 0x7fff_ffff_ffff_ffffn }],
    success: [{ range }, { put }, { txn: { compare: [], success: [{ deleteRange: { key: b('d'), rangeEnd: b(''), prevKv: false } }], failure: [] } }],
    failure: [],
  } } },
  { name: 'compaction', body: { type: 'compaction', revision: 2 ** 40, physical: true } },
  { name: 'leaseGrant', body: { type: 'leaseGrant', id: 0x1234_5678_9abc_def0n, ttl: 60 } },
  { name: 'leaseRevoke', body: { type: 'leaseRevoke', id: -1n } },
  { name: 'leaseCheckpoint', body: { type: 'leaseCheckpoint', checkpoints: [{ id: 1n, remainingTtl: 9 }, { id: 2n, remainingTtl: 0 }] } },
  { name: 'alarm', body: { type: 'alarm', action: 1, memberId: 0x7fffn, alarm: 1 } },
  { name: 'alarm of a member id ≥ 2^63', body: { type: 'alarm', action: 1, memberId: 0x8e9e_05c5_2164_694dn, alarm: 1 } },
  { name: 'memberAttr', body: { type: 'memberAttr', memberId: 3n, name: 'n1', clientUrls: ['http://127.0.0.1:2379'] } },
  { name: 'memberAttr of a member id ≥ 2^63', body: { type: 'memberAttr', memberId: 0xfedc_ba98_7654_3210n, name: 'n2', clientUrls: [] } },
];

for (const c of CASES) {
  test(`apply codec round-trips ${c.name}`, () => {
    const req: ApplyRequest = { header: { id: 0x7000_0000_0000_0001n, username: 'root', authRevision: 4 }, body: c.body };
    const bytes = encodeApplyRequest(req);
    assert.deepEqual(decodeApplyRequest(bytes), req);
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(() => decodeApplyRequest(bytes.subarray(0, n)), DecodeError, `truncated at ${n}`);
    }
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    assert.throws(() => decodeApplyRequest(padded), DecodeError, 'trailing byte');
  });
}
