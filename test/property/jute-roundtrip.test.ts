/**
 * Property: every jute record round-trips through writer and reader, and any truncation of a
 * valid encoding or any random byte string decodes to a value or a JuteDecodeError — never
 * another exception (zk-protocol.md §1.2; DESIGN §8 "codecs round-trip").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  JuteDecodeError, JuteReader, JuteWriter, OpCode, Stat, ZkRequest, decodeRequest, encodeRequest, readStat, writeStat,
} from '../../protocol/jute';

const rec = <T>(m: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> => fc.record(m, { noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const str = fc.string({ maxLength: 20 });
const buf = fc.option(fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)), { nil: null });
const acl = rec({ perms: int32, id: rec({ scheme: str, id: str }) });

const stat: fc.Arbitrary<Stat> = rec({
  czxid: int64, mzxid: int64, ctime: int64, mtime: int64, version: int32, cversion: int32, aversion: int32,
  ephemeralOwner: int64, dataLength: int32, numChildren: int32, pzxid: int64,
});

const writeOp: fc.Arbitrary<ZkRequest> = fc.oneof(
  rec({ op: fc.constantFrom('create' as const, 'create2' as const, 'createContainer' as const), path: str, data: buf, acl: fc.array(acl, { maxLength: 3 }), flags: int32 }),
  rec({ op: fc.constant('createTTL' as const), path: str, data: buf, acl: fc.array(acl, { maxLength: 3 }), flags: int32, ttl: int64 }),
  rec({ op: fc.constantFrom('delete' as const, 'check' as const), path: str, version: int32 }),
  rec({ op: fc.constant('setData' as const), path: str, data: buf, version: int32 }),
);

const request: fc.Arbitrary<ZkRequest> = fc.oneof(
  writeOp,
  rec({ op: fc.constantFrom('exists' as const, 'getData' as const, 'getChildren' as const, 'getChildren2' as const), path: str, watch: fc.boolean() }),
  rec({ op: fc.constant('setACL' as const), path: str, acl: fc.array(acl, { maxLength: 3 }), version: int32 }),
  rec({ op: fc.constant('multi' as const), ops: fc.array(writeOp, { maxLength: 5 }) }),
  rec({ op: fc.constantFrom('setWatches2' as const), relativeZxid: int64, dataWatches: fc.array(str), existWatches: fc.array(str), childWatches: fc.array(str), persistentWatches: fc.array(str), persistentRecursiveWatches: fc.array(str) }),
  rec({ op: fc.constantFrom('checkWatches' as const, 'removeWatches' as const), path: str, type: int32 }),
  rec({ op: fc.constant('addWatch' as const), path: str, mode: int32 }),
);

test('Stat round-trips', () => {
  fc.assert(fc.property(stat, (s) => {
    const w = new JuteWriter();
    writeStat(w, s);
    assert.deepEqual(readStat(new JuteReader(w.toBuffer())), s);
  }));
});

test('requests round-trip', () => {
  fc.assert(fc.property(request, (req) => {
    const w = new JuteWriter();
    encodeRequest(w, req);
    assert.deepEqual(decodeRequest(OpCode[req.op], new JuteReader(w.toBuffer())), req);
  }));
});

test('every truncation of a valid request is a JuteDecodeError', () => {
  fc.assert(fc.property(request, fc.nat(), (req, cut) => {
    const w = new JuteWriter();
    encodeRequest(w, req);
    const b = w.toBuffer();
    if (b.length === 0) return;
    const n = cut % b.length;
    assert.throws(() => decodeRequest(OpCode[req.op], new JuteReader(b.subarray(0, n))), JuteDecodeError);
  }));
});

test('random bytes under any op code decode or fail with JuteDecodeError only', () => {
  const codes = Object.values(OpCode);
  fc.assert(fc.property(fc.constantFrom(...codes, 10, 999), fc.uint8Array({ maxLength: 64 }), (code, bytes) => {
    try {
      decodeRequest(code, new JuteReader(Buffer.from(bytes)));
    } catch (e) {
      assert.ok(e instanceof JuteDecodeError, String(e));
    }
  }), { numRuns: 2000 });
});
