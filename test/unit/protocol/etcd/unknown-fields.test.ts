/**
 * Forward compatibility: fields this schema does not know (added by a newer etcd, e.g. 3.6's
 * StatusResponse.storageVersion=11) are skipped, whatever their wire type; known fields around
 * them still decode. Repeated scalars decode packed or unpacked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rpc } from '../../../../protocol/etcd';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

const unknown: { name: string; field: string }[] = [
  { name: 'varint', field: '78 96 01' }, // field 15, varint 150
  { name: 'fixed64', field: '79 0102030405060708' },
  { name: 'length-delimited', field: '7a 03 616263' },
  { name: 'fixed32', field: '7d 01020304' },
  { name: 'group with a nested field', field: '7b 08 01 7c' },
  { name: 'large field number', field: 'f8ffffff0f 01' }, // field 2^29-1
  { name: '3.6 StatusResponse.storageVersion', field: '5a 05 332e362e30' },
];

for (const c of unknown) {
  test(`unknown field is skipped: ${c.name}`, () => {
    // StatusResponse: version=2 "3.5.0" | <unknown> | raftIndex=5 7
    const b = Buffer.concat([hex('12 05 332e352e30'), hex(c.field), hex('28 07')]);
    const s = rpc.StatusResponse.decode(b);
    assert.equal(s.version, '3.5.0');
    assert.equal(s.raftIndex, 7n);
  });
}

test('repeated enum decodes unpacked as well as packed', () => {
  const unpacked = rpc.WatchCreateRequest.decode(hex('28 01 28 00'));
  const packed = rpc.WatchCreateRequest.decode(hex('2a 02 01 00'));
  assert.deepStrictEqual(unpacked.filters, [1, 0]);
  assert.deepStrictEqual(packed.filters, [1, 0]);
});

test('a known field with an unexpected wire type is skipped, not misread', () => {
  // PutRequest.key (field 1) sent as a varint instead of bytes
  const p = rpc.PutRequest.decode(hex('08 05 12 01 76'));
  assert.equal(p.key.length, 0);
  assert.equal(p.value.toString(), 'v');
});

test('the last occurrence of a scalar or oneof member wins', () => {
  assert.equal(rpc.PutRequest.decode(hex('18 01 18 02')).lease, 2n);
  const c = rpc.Compare.decode(hex('20 05 28 06'));
  assert.deepStrictEqual(c.targetUnion, { $case: 'createRevision', createRevision: 6n });
});

test('an unknown enum number is kept, as proto3 open enums require', () => {
  assert.equal(rpc.RangeRequest.decode(hex('28 09')).sortOrder, 9);
  assert.equal(rpc.RangeRequest.encode({ sortOrder: 9 as rpc.RangeRequest_SortOrder }).toString('hex'), '2809');
});
