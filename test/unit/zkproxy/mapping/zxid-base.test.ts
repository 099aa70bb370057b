/**
 * The zxid base's conversions: revisions out (zero and negative zxids are literals), zxids in
 * (below the base: nothing seen here), the epoch arithmetic, the stored form (a foreign value is
 * no base), and every reply body that carries a Stat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stat, ZkResponse } from '../../../../protocol/jute';
import {
  decodeZxidBase, encodeZxidBase, nextEpochStart, requestInRevisions, revisionOfZxid, wireResponse, wireZxid, wireZxidNumber,
} from '../../../../zkproxy/mapping/zxid-base';

const BASE = 3n << 32n;
const stat = (z: bigint): Stat => ({
  czxid: z, mzxid: z + 1n, ctime: 5n, mtime: 6n, version: 1, cversion: 2, aversion: 3, ephemeralOwner: 9n, dataLength: 4, numChildren: 0, pzxid: z + 2n,
});

test('revisions go out plus the base; 0 and -1 stay literals', () => {
  assert.equal(wireZxid(7, BASE), BASE + 7n);
  assert.equal(wireZxid(0, BASE), 0n);
  assert.equal(wireZxid(-1, BASE), -1n);
  assert.equal(wireZxid(7, 0n), 7n);
  // The statistics' number form agrees, up to the largest base a store may hold.
  for (const [rev, base] of [[7, BASE], [0, BASE], [-1, BASE], [123456789, 2n ** 52n - 1n]] as const) assert.equal(BigInt(wireZxidNumber(rev, base)), wireZxid(rev, base));
});

test("zxids come in as revisions; one below the base was another server's and stands for 0", () => {
  assert.equal(revisionOfZxid(BASE + 7n, BASE), 7n);
  assert.equal(revisionOfZxid(BASE - 1n, BASE), 0n);
  assert.equal(revisionOfZxid(0n, BASE), 0n);
  assert.equal(revisionOfZxid(-1n, 0n), 0n);
  assert.equal(revisionOfZxid(42n, 0n), 42n);
});

test('the next epoch starts past every zxid of this one', () => {
  assert.equal(nextEpochStart(0x5n), 1n << 32n);
  assert.equal(nextEpochStart(0x4_0000_1234n), 5n << 32n);
  assert.equal(nextEpochStart(0x4_ffff_ffffn), 5n << 32n);
  assert.equal(nextEpochStart(0n), 1n << 32n);
});

test('the stored form round-trips; anything else is no base', () => {
  assert.equal(encodeZxidBase(BASE).toString(), '0000000300000000');
  assert.equal(decodeZxidBase(encodeZxidBase(BASE)), BASE);
  assert.equal(decodeZxidBase(encodeZxidBase(0n)), 0n);
  for (const bad of ['', '300000000', '000000030000000G', '00000003000000000', '0000000300000000\n', 'ffffffffffffffff']) {
    assert.equal(decodeZxidBase(Buffer.from(bad)), undefined, JSON.stringify(bad));
  }
});

test('every Stat of a reply is shifted, system zeros kept; bodies without one are untouched', () => {
  const shifted = (s: Stat): bigint[] => [s.czxid, s.mzxid, s.pzxid];
  const bodies: ZkResponse[] = [
    { op: 'create2', path: '/a', stat: stat(10n) },
    { op: 'stat', stat: stat(10n) },
    { op: 'getData', data: null, stat: stat(10n) },
    { op: 'getACL', acl: [], stat: stat(10n) },
    { op: 'getChildren2', children: [], stat: stat(10n) },
  ];
  for (const b of bodies) {
    const w = wireResponse(b, BASE) as { stat: Stat };
    assert.deepEqual(shifted(w.stat), [BASE + 10n, BASE + 11n, BASE + 12n], b.op);
    assert.deepEqual({ ...w.stat, czxid: 0n, mzxid: 0n, pzxid: 0n }, { ...stat(10n), czxid: 0n, mzxid: 0n, pzxid: 0n }, `${b.op}: the other fields as they were`);
    assert.deepEqual(shifted((b as { stat: Stat }).stat), [10n, 11n, 12n], `${b.op}: the input is not changed`);
  }
  const system = wireResponse({ op: 'stat', stat: { ...stat(0n), mzxid: 0n, pzxid: 0n } }, BASE) as { stat: Stat };
  assert.deepEqual(shifted(system.stat), [0n, 0n, 0n]);
  const multi = wireResponse({ op: 'multi', results: [
    { type: 'create2', path: '/a', stat: stat(10n) }, { type: 'setData', stat: stat(20n) }, { type: 'delete' }, { type: 'error', err: -101 },
  ] }, BASE) as { results: { stat?: Stat }[] };
  assert.deepEqual(multi.results.map((r) => r.stat && r.stat.czxid), [BASE + 10n, BASE + 20n, undefined, undefined]);
  const plain: ZkResponse = { op: 'getChildren', children: ['a'] };
  assert.equal(wireResponse(plain, BASE), plain);
  const s: ZkResponse = { op: 'stat', stat: stat(10n) };
  assert.equal(wireResponse(s, 0n), s, 'no base: the same object');
});

test("SetWatches' relativeZxid comes in as a revision; other requests pass as they are", () => {
  const sw = { op: 'setWatches2' as const, relativeZxid: BASE + 9n, dataWatches: ['/a'], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] };
  assert.equal((requestInRevisions(sw, BASE) as typeof sw).relativeZxid, 9n);
  assert.equal((requestInRevisions({ ...sw, op: 'setWatches' }, BASE) as typeof sw).relativeZxid, 9n);
  assert.equal((requestInRevisions({ ...sw, relativeZxid: 5n }, BASE) as typeof sw).relativeZxid, 0n);
  assert.equal(requestInRevisions(sw, 0n), sw);
  const get = { op: 'getData' as const, path: '/a', watch: false };
  assert.equal(requestInRevisions(get, BASE), get);
});
