/**
 * Property: for random RangeRequest, TxnRequest (with nested txns) and WatchResponse values,
 * decode(encode(m)) is m (with defaults filled in), and the bytes are exactly what protobufjs
 * writes for the same .proto; any random or truncated byte string decodes to a value or a
 * ProtoDecodeError, never another exception (DESIGN §8 "codecs round-trip"). Every other message
 * type gets a shorter run of the same checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import * as protobuf from 'protobufjs';
import { ENUM_TYPES, MESSAGE_TYPES, ProtoDecodeError } from '../../protocol/etcd';
import type { FieldInfo } from '../../protocol/etcd';

const INT64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -2n, max: 300n }));
const UINT64 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 300n }));
const BYTES = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));

function scalar(f: FieldInfo): fc.Arbitrary<unknown> {
  switch (f.type) {
    case 'int64':
      return INT64;
    case 'uint64':
      return UINT64;
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'bool':
      return fc.boolean();
    case 'string':
      return fc.string({ maxLength: 12, unit: 'binary' });
    case 'bytes':
      return BYTES;
    case 'enum':
      return fc.constantFrom(...ENUM_TYPES[f.typeName!]!.values.map(([, n]) => n));
    case 'message':
      throw new Error('not a scalar');
  }
}

/** Arbitrary message of `typeName` built from its descriptor; `depth` bounds recursion. */
function message(typeName: string, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const info = MESSAGE_TYPES[typeName]!;
  const value = (f: FieldInfo): fc.Arbitrary<unknown> => (f.type === 'message' ? message(f.typeName!, depth + 1) : scalar(f));
  const plain: Record<string, fc.Arbitrary<unknown>> = {};
  const oneofs = new Map<string, FieldInfo[]>();
  for (const f of info.fields) {
    if (f.type === 'message' && depth >= 3) continue;
    if (f.oneof !== undefined) oneofs.set(f.oneof, [...(oneofs.get(f.oneof) ?? []), f]);
    else plain[f.jsonName] = f.repeated ? fc.array(value(f), { maxLength: 3 }) : value(f);
  }
  for (const [name, arms] of oneofs) {
    plain[name] = fc.option(fc.oneof(...arms.map((f) => value(f).map((v) => ({ $case: f.jsonName, [f.jsonName]: v })))), { nil: undefined });
  }
  return fc.record(plain, { requiredKeys: [], noNullPrototype: true });
}

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(__dirname, '../../../protocol/etcd/proto', target);
root.loadSync(['rpc.proto', 'raft_internal.proto', 'v3lock.proto', 'v3election.proto', 'health.proto']);

const subjects = ['etcdserverpb.RangeRequest', 'etcdserverpb.TxnRequest', 'etcdserverpb.WatchResponse'];

for (const typeName of subjects) {
  const codec = MESSAGE_TYPES[typeName]!.codec;
  const reference = root.lookupType(typeName);

  test(`encode→decode is the identity: ${typeName}`, () => {
    fc.assert(
      fc.property(message(typeName, 0), (m) => {
        assert.deepStrictEqual(codec.decode(codec.encode(m)), codec.fromPartial(m));
      }),
      { numRuns: 300 },
    );
  });

  test(`bytes equal protobufjs's for the same .proto: ${typeName}`, () => {
    fc.assert(
      fc.property(message(typeName, 0), (m) => {
        const ours = codec.encode(m);
        const theirs = reference.encode(reference.decode(ours)).finish();
        assert.equal(Buffer.from(theirs).toString('hex'), ours.toString('hex'));
      }),
      { numRuns: 200 },
    );
  });

  test(`random and truncated bytes decode or throw ProtoDecodeError: ${typeName}`, () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      message(typeName, 0).chain((m) => {
        const full = codec.encode(m);
        return fc.nat({ max: full.length }).map((n) => full.subarray(0, n));
      }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          codec.decode(bytes);
        } catch (e) {
          assert.ok(e instanceof ProtoDecodeError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
}

test('bytes equal protobufjs\'s for every message type (a few runs each)', () => {
  for (const [typeName, info] of Object.entries(MESSAGE_TYPES)) {
    const reference = root.lookupType(typeName);
    fc.assert(
      fc.property(message(typeName, 0), (m) => {
        const ours = info.codec.encode(m);
        assert.equal(Buffer.from(reference.encode(reference.decode(ours)).finish()).toString('hex'), ours.toString('hex'), typeName);
        assert.deepStrictEqual(info.codec.decode(ours), info.codec.fromPartial(m), typeName);
      }),
      { numRuns: 15 },
    );
  }
});
