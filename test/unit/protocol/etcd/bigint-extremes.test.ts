/**
 * 64-bit fields are bigint end to end (DESIGN §6; etcd.md §7.2): int64 keeps its sign
 * (lease -1, revision extremes), uint64 covers ids at and above 2^63, and values outside a
 * field's range (64- or 32-bit) are refused at encode time instead of being silently truncated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kv, rpc } from '../../../../protocol/etcd';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

const int64Values: { name: string; value: bigint }[] = [
  { name: 'zero', value: 0n },
  { name: 'one', value: 1n },
  { name: '2^31-1 (last fast-path value)', value: 2n ** 31n - 1n },
  { name: '2^31', value: 2n ** 31n },
  { name: '2^32', value: 2n ** 32n },
  { name: '2^49-1 (7-byte varint)', value: 2n ** 49n - 1n },
  { name: '2^49 (8-byte varint)', value: 2n ** 49n },
  { name: '2^53+1 (not a safe double)', value: 2n ** 53n + 1n },
  { name: 'a typical lease id', value: 0x694d5d2f465b6c07n },
  { name: '2^63-1', value: INT64_MAX },
  { name: '-1', value: -1n },
  { name: '-2^31', value: -(2n ** 31n) },
  { name: '-2^63', value: INT64_MIN },
];

for (const c of int64Values) {
  test(`int64 round-trips: ${c.name}`, () => {
    const msg = { key: Buffer.from('k'), createRevision: c.value, modRevision: c.value, version: c.value, lease: c.value };
    const back = kv.KeyValue.decode(kv.KeyValue.encode(msg));
    assert.equal(back.createRevision, c.value);
    assert.equal(back.lease, c.value);
    assert.equal(typeof back.lease, 'bigint');
    const grant = rpc.LeaseGrantResponse.decode(rpc.LeaseGrantResponse.encode({ ID: c.value, TTL: c.value }));
    assert.equal(grant.ID, c.value);
    assert.equal(grant.TTL, c.value);
  });
}

const uint64Values: { name: string; value: bigint }[] = [
  { name: 'zero', value: 0n },
  { name: '2^32-1', value: 2n ** 32n - 1n },
  { name: '2^63-1', value: INT64_MAX },
  { name: '2^63', value: 2n ** 63n },
  { name: 'a random member id above 2^63', value: 0xcdf818194e3a8c32n },
  { name: '2^64-1', value: UINT64_MAX },
];

for (const c of uint64Values) {
  test(`uint64 round-trips without turning negative: ${c.name}`, () => {
    const h = rpc.ResponseHeader.decode(rpc.ResponseHeader.encode({ clusterId: c.value, memberId: c.value, raftTerm: c.value }));
    assert.equal(h.clusterId, c.value);
    assert.equal(h.memberId, c.value);
    assert.equal(h.raftTerm, c.value);
    const m = rpc.MemberRemoveRequest.decode(rpc.MemberRemoveRequest.encode({ ID: c.value }));
    assert.equal(m.ID, c.value);
  });
}

test('an int64 read as uint64 is its two\'s complement, as Go reads it', () => {
  // LeaseRevokeRequest.ID is int64 field 1, MemberRemoveRequest.ID is uint64 field 1.
  const b = rpc.LeaseRevokeRequest.encode({ ID: -1n });
  assert.equal(rpc.MemberRemoveRequest.decode(b).ID, UINT64_MAX);
  assert.equal(rpc.LeaseRevokeRequest.decode(rpc.MemberRemoveRequest.encode({ ID: UINT64_MAX })).ID, -1n);
});

const outOfRange: { name: string; encode: () => Buffer }[] = [
  { name: 'int64 above 2^63-1', encode: () => rpc.PutRequest.encode({ lease: INT64_MAX + 1n }) },
  { name: 'int64 below -2^63', encode: () => rpc.PutRequest.encode({ lease: INT64_MIN - 1n }) },
  { name: 'uint64 negative', encode: () => rpc.ResponseHeader.encode({ clusterId: -1n }) },
  { name: 'uint64 above 2^64-1', encode: () => rpc.ResponseHeader.encode({ memberId: UINT64_MAX + 1n }) },
  { name: 'oneof int64 out of range', encode: () => rpc.Compare.encode({ targetUnion: { $case: 'modRevision', modRevision: 2n ** 64n } }) },
  { name: 'uint32 negative', encode: () => rpc.HashResponse.encode({ hash: -1 }) },
  { name: 'uint32 above 2^32-1', encode: () => rpc.HashResponse.encode({ hash: 2 ** 32 }) },
  { name: 'uint32 fraction', encode: () => rpc.HashResponse.encode({ hash: 1.5 }) },
  { name: 'enum above 2^31-1', encode: () => rpc.RangeRequest.encode({ sortOrder: (2 ** 31) as rpc.RangeRequest_SortOrder }) },
];

for (const c of outOfRange) {
  test(`encode refuses an out-of-range value: ${c.name}`, () => {
    assert.throws(c.encode, RangeError);
  });
}

test('uint32 hash keeps values above 2^31 positive', () => {
  const h = rpc.HashKVResponse.decode(rpc.HashKVResponse.encode({ hash: 0xfedcba98, compactRevision: 5n }));
  assert.equal(h.hash, 0xfedcba98);
});

test('a negative enum number is a 10-byte sign-extended varint, as Go writes int32', () => {
  const b = rpc.RangeRequest.encode({ sortOrder: -1 as rpc.RangeRequest_SortOrder });
  assert.equal(b.toString('hex'), '28ffffffffffffffffff01');
  assert.equal(rpc.RangeRequest.decode(b).sortOrder, -1);
});
