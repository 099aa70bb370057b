/**
 * Malformed bytes never hang, crash or return garbage silently: every decode either succeeds
 * or throws ProtoDecodeError with a reason, the offset and the top-level type name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DECODE_DEPTH, ProtoDecodeError, rpc } from '../../../../protocol/etcd';
import type { ProtoDecodeReason } from '../../../../protocol/etcd';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** A TxnRequest nesting `depth` txns in success ops: success=2 { request_txn=4 { ... } }. */
function nestedTxn(depth: number): Buffer {
  let inner = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    const op = Buffer.concat([Buffer.from([0x22]), varint(inner.length), inner]);
    inner = Buffer.concat([Buffer.from([0x12]), varint(op.length), op]);
  }
  return inner;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

const cases: { name: string; bytes: Buffer; reason: ProtoDecodeReason; decode?: (b: Buffer) => unknown }[] = [
  { name: 'truncated tag varint', bytes: hex('80'), reason: 'truncated' },
  { name: 'field number 0', bytes: hex('00 01'), reason: 'bad-tag' },
  { name: 'wire type 6', bytes: hex('0e 01'), reason: 'bad-tag' },
  { name: 'wire type 7', bytes: hex('0f'), reason: 'bad-tag' },
  { name: 'stray end-group', bytes: hex('0c'), reason: 'bad-tag' },
  { name: 'bytes length past the end', bytes: hex('0a 05 61 62'), reason: 'length-overrun' },
  { name: 'huge bytes length', bytes: hex('0a ffffffff0f 61'), reason: 'length-overrun' },
  { name: 'truncated int64 varint', bytes: hex('18 ff ff'), reason: 'truncated' },
  { name: '11-byte varint', bytes: hex('18 ffffffffffffffffffff01'), reason: 'varint-too-long' },
  { name: 'truncated fixed64 unknown field', bytes: hex('79 01 02 03'), reason: 'truncated' },
  { name: 'truncated fixed32 unknown field', bytes: hex('7d 01'), reason: 'truncated' },
  { name: 'unterminated group', bytes: hex('7b 08 01'), reason: 'truncated' },
  { name: 'group closed by another field number', bytes: hex('7b 08 01 84 01'), reason: 'bad-tag' },
  {
    name: 'nested field runs past its message into the parent',
    // RangeResponse.header=1 LEN 2 { cluster_id varint 80 80 ... } : the varint leaves the header
    bytes: hex('0a 02 08 80 80 01'),
    reason: 'truncated',
    decode: (b) => rpc.RangeResponse.decode(b),
  },
  {
    name: 'txns nested past the depth bound',
    bytes: nestedTxn(MAX_DECODE_DEPTH),
    reason: 'too-deep',
    decode: (b) => rpc.TxnRequest.decode(b),
  },
];

for (const c of cases) {
  test(`malformed input is a typed error: ${c.name}`, () => {
    const decode = c.decode ?? ((b: Buffer) => rpc.PutRequest.decode(b));
    assert.throws(
      () => decode(c.bytes),
      (e: unknown) => {
        assert.ok(e instanceof ProtoDecodeError, `not a ProtoDecodeError: ${String(e)}`);
        assert.equal(e.reason, c.reason);
        assert.ok(e.typeName.startsWith('etcdserverpb.'));
        assert.ok(e.message.startsWith(e.typeName));
        assert.ok(e.offset >= 0 && e.offset <= c.bytes.length);
        return true;
      },
    );
  });
}

test('nesting just under the depth bound decodes', () => {
  const txn = rpc.TxnRequest.decode(nestedTxn(MAX_DECODE_DEPTH / 2 - 1));
  assert.equal(txn.success.length, 1);
});

test('a non-byte input is a typed error', () => {
  assert.throws(() => rpc.PutRequest.decode('0a01' as unknown as Uint8Array), (e: unknown) => e instanceof ProtoDecodeError && e.reason === 'not-bytes');
});

test('every truncation of a valid message decodes or throws ProtoDecodeError', () => {
  const full = rpc.TxnRequest.encode({
    compare: [{ key: Buffer.from('k'), targetUnion: { $case: 'modRevision', modRevision: 1n << 40n }, rangeEnd: Buffer.from('z') }],
    success: [{ request: { $case: 'requestPut', requestPut: { key: Buffer.from('k'), value: Buffer.alloc(200, 1), lease: -5n } } }],
    failure: [{ request: { $case: 'requestRange', requestRange: { key: Buffer.from('k'), limit: 3n } } }],
  });
  for (let n = 0; n < full.length; n++) {
    try {
      rpc.TxnRequest.decode(full.subarray(0, n));
    } catch (e) {
      assert.ok(e instanceof ProtoDecodeError, `length ${n}: ${String(e)}`);
    }
  }
});
