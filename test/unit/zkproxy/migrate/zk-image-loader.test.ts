/**
 * Reading ZooKeeper's snapshots and transaction logs (zkproxy/migrate/zk-image-loader.ts and the
 * readers under it): what each file says, the damaged files a crash or a concurrent write
 * leaves, which files make the tree, and which incarnation of a path a kind belongs to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Acl, OpCode } from '../../../../protocol/jute';
import { ZkTxn } from '../../../../zkproxy/migrate/zk-txn';
import { adler32 } from '../../../../zkproxy/migrate/adler32';
import { loadZkImage } from '../../../../zkproxy/migrate/zk-image-loader';
import { ownerOfKind, specialKindOf } from '../../../../zkproxy/migrate/special-node';
import { ZkDataFileError } from '../../../../zkproxy/migrate/zk-data-file-error';
import { readSnapshot } from '../../../../zkproxy/migrate/zk-snapshot-reader';
import { readTxnLog } from '../../../../zkproxy/migrate/zk-txn-log-reader';
import { MigrationError } from '../../../../zkproxy/migrate/zk-source';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { createBody, deleteBody, logBytes, multiBody, recordBytes, snappyStream, snapshotBytes } from './zk-data-writer';

const CONTAINER = -(1n << 63n);
const ttlOwner = (ms: bigint): bigint => BigInt.asIntN(64, 0xff00000000000000n | ms);
const ERROR_TXN = -1;

test('adler32 matches the RFC 1950 sum (java.util.zip.Adler32)', () => {
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
  assert.equal(adler32(Buffer.alloc(0)), 1);
  // Past one reduction chunk: the sums must still be reduced right.
  const big = Buffer.alloc(3 << 20, 0xff);
  const half = adler32(big, 0, big.length >> 1);
  assert.equal(adler32(big, big.length >> 1, big.length, half), adler32(big));
});

test('the persisted ephemeralOwner tells containers and TTL znodes from the rest', () => {
  assert.deepEqual(specialKindOf(CONTAINER), { kind: 'container', ttl: 0n });
  assert.deepEqual(specialKindOf(ttlOwner(5000n)), { kind: 'ttl', ttl: 5000n });
  assert.deepEqual([ownerOfKind('container', 0n), ownerOfKind('ttl', 5000n)], [CONTAINER, ttlOwner(5000n)], 'the markers a replayed create writes');
  assert.equal(specialKindOf(0n), undefined);
  assert.equal(specialKindOf(ttlOwner(0n)), undefined, 'a TTL of 0, which ZooKeeper never reaps');
  assert.equal(specialKindOf(0x1000000abcn), undefined, 'an ephemeral of server 0');
  assert.equal(specialKindOf(BigInt.asIntN(64, 0xff01000000001234n)), undefined, 'another extended type (reserved bits set) is not a TTL');
});

test('a snapshot yields its znodes as persisted, ACLs resolved through its cache', () => {
  const alice: Acl[] = [{ perms: 1, id: { scheme: 'digest', id: 'alice:x' } }];
  const bytes = snapshotBytes([
    { path: '', czxid: 0n, aclKey: -1n },
    { path: '/a', czxid: 2n, data: Buffer.from('plain'), version: 3, cversion: 4, aversion: 1, mzxid: 9n, pzxid: 7n, aclKey: 2n },
    { path: '/a/c', czxid: 3n, owner: CONTAINER, data: null },
    { path: '/a/t', czxid: 4n, owner: ttlOwner(60000n) },
    { path: '/a/e', czxid: 5n, owner: 0x100n },
  ], { acls: [[2n, alice]], sessions: [[0x100n, 30000], [0x2000000000000001n, 4000]] });
  const { nodes, sessions } = readSnapshot(bytes, 'snapshot.5');
  assert.deepEqual([...sessions], [[0x100n, 30000], [0x2000000000000001n, 4000]], 'the open sessions with their timeouts');
  assert.deepEqual(nodes.map((n) => [n.path, n.czxid, n.owner]), [['', 0n, 0n], ['/a', 2n, 0n], ['/a/c', 3n, CONTAINER], ['/a/t', 4n, ttlOwner(60000n)], ['/a/e', 5n, 0x100n]]);
  const a = nodes[1]!;
  assert.deepEqual({ ...a, data: a.data?.toString() }, {
    path: '/a', data: 'plain', acl: alice, czxid: 2n, mzxid: 9n, ctime: 1700000000000n, mtime: 1700000000000n,
    version: 3, cversion: 4, aversion: 1, owner: 0n, pzxid: 7n,
  });
  assert.deepEqual(nodes[0]!.acl, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], 'key -1 is the open ACL');
  assert.equal(nodes[2]!.data, null);
  const unknownAcl = snapshotBytes([{ path: '', czxid: 0n, aclKey: 9n }]);
  assert.throws(() => readSnapshot(unknownAcl, 'snapshot.6'), (e: unknown) => e instanceof ZkDataFileError && /refers to ACL 9/.test(e.message));
});

test('a snapshot that is not one, is cut short or fails its seal is refused with its name', () => {
  const good = snapshotBytes([{ path: '', czxid: 0n }, { path: '/c', czxid: 2n, owner: CONTAINER }]);
  const refused = (b: Buffer, msg: RegExp): void => assert.throws(() => readSnapshot(b, 'snapshot.9'), (e: unknown) => e instanceof ZkDataFileError && msg.test(e.message) && e.message.includes('snapshot.9'));
  refused(snapshotBytes([{ path: '', czxid: 0n }], { badSeal: true }), /fails its checksum/);
  refused(good.subarray(0, good.length - 12), /cut short/);
  refused(good.subarray(0, 40), /cut short/);
  refused(Buffer.concat([Buffer.from('ZKLG'), good.subarray(4)]), /not a ZooKeeper snapshot/);
  const flipped = Buffer.from(good);
  flipped[flipped.length - 20]! ^= 1;
  assert.throws(() => readSnapshot(flipped, 'snapshot.9'), ZkDataFileError);
});

test('a log yields its txns decoded, in multis too; a failed multi holds none', () => {
  const log = logBytes([
    recordBytes({ zxid: 10n, type: OpCode.create, body: createBody(OpCode.create, '/p') }),
    recordBytes({ zxid: 11n, type: OpCode.createContainer, body: createBody(OpCode.createContainer, '/p/c') }),
    recordBytes({ zxid: 12n, type: OpCode.createTTL, body: createBody(OpCode.createTTL, '/p/t', 1500n) }),
    recordBytes({ zxid: 13n, type: OpCode.multi, body: multiBody([
      { type: OpCode.createTTL, body: createBody(OpCode.createTTL, '/p/mt', 9n) },
      { type: OpCode.createContainer, body: createBody(OpCode.createContainer, '/p/mc') },
    ]) }),
    // A failed multi is logged as error txns: nothing is created.
    recordBytes({ zxid: 14n, type: OpCode.multi, body: multiBody([{ type: ERROR_TXN, body: Buffer.from([0, 0, 0, 0]) }, { type: ERROR_TXN, body: Buffer.from([0xff, 0xff, 0xff, 0x9c]) }]) }),
  ]);
  const c = readTxnLog(log, 'log.a');
  assert.equal(c.txns.length, 5);
  assert.equal(c.damage, undefined);
  assert.equal(c.unreadable, 0);
  assert.deepEqual(c.txns.map((t) => [t.zxid, t.clientId, t.time]), [10n, 11n, 12n, 13n, 14n].map((z) => [z, 0x100n, 1700000000000n]));
  const created = (txn: ZkTxn): unknown[] => (txn.op === 'create' ? [[txn.path, txn.kind, txn.ttl, txn.data?.toString()]] : txn.op === 'multi' ? txn.txns.flatMap(created) : []);
  assert.deepEqual(c.txns.flatMap((t) => created(t.txn)), [
    ['/p', 'plain', 0n, 'd'], ['/p/c', 'container', 0n, 'd'], ['/p/t', 'ttl', 1500n, 'd'], ['/p/mt', 'ttl', 9n, 'd'], ['/p/mc', 'container', 0n, 'd'],
  ]);
  assert.deepEqual(c.txns[4]!.txn, { op: 'multi', txns: [], failed: true });
});

test('a torn or damaged log record ends the reading there and says so; what came before stays', () => {
  const first = recordBytes({ zxid: 11n, type: OpCode.createContainer, body: createBody(OpCode.createContainer, '/c1') });
  const second = recordBytes({ zxid: 12n, type: OpCode.createContainer, body: createBody(OpCode.createContainer, '/c2') });
  const cases: [string, Buffer, RegExp][] = [
    ['cut inside the entry', logBytes([first, second.subarray(0, second.length - 10)], 0), /cut short/],
    ['no end-of-record byte', logBytes([first, Buffer.concat([second.subarray(0, second.length - 1), Buffer.from('X')])]), /partial record/],
    ['a bad checksum', logBytes([first, recordBytes({ zxid: 12n, type: OpCode.createContainer, body: createBody(OpCode.createContainer, '/c2') }, { badCrc: true })]), /fails its checksum/],
  ];
  for (const [what, bytes, msg] of cases) {
    const c = readTxnLog(bytes, 'log.b');
    assert.match(c.damage ?? '', msg, what);
    assert.deepEqual(c.txns.map((t) => t.zxid), [11n], what);
  }
  assert.throws(() => readTxnLog(snapshotBytes([{ path: '', czxid: 0n }]), 'log.c'), /not a ZooKeeper transaction log/);
  assert.match(readTxnLog(Buffer.alloc(0), 'log.e').damage ?? '', /log\.e ends inside its header/, 'an empty file (a crash right after its creation)');
  // A checksummed createContainer whose body is not one: counted, not guessed at.
  const odd = readTxnLog(logBytes([recordBytes({ zxid: 5n, type: OpCode.createContainer, body: Buffer.from([0, 0, 0, 1]) })]), 'log.d');
  assert.equal(odd.unreadable, 1);
  assert.deepEqual(odd.txns, []);
});

test('a data directory: the newest sealed snapshot and the logs from it on; a kind goes to its incarnation only', (t) => {
  const dir = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir));
  const v2 = join(dir, 'version-2');
  mkdirSync(v2);
  const root = { path: '', czxid: 0n };
  // snapshot.30 is being written (no valid seal): snapshot.20 is used, gzipped.
  writeFileSync(join(v2, 'snapshot.10'), snapshotBytes([root, { path: '/old', czxid: 5n, owner: CONTAINER }]));
  writeFileSync(join(v2, 'snapshot.20.gz'), gzipSync(snapshotBytes([root, { path: '/c', czxid: 15n, owner: CONTAINER }, { path: '/t', czxid: 16n, owner: ttlOwner(100n) }])));
  writeFileSync(join(v2, 'snapshot.30'), snapshotBytes([root, { path: '/c', czxid: 15n, owner: CONTAINER }], { badSeal: true }));
  // Newer still: a gz snapshot cut short, and a snappy one that is not snappy.
  const gz = gzipSync(snapshotBytes([root]));
  writeFileSync(join(v2, 'snapshot.38.gz'), gz.subarray(0, gz.length - 8));
  writeFileSync(join(v2, 'snapshot.40.snappy'), Buffer.from('not read'));
  const container = (zxid: bigint, path: string): Buffer => recordBytes({ zxid, type: OpCode.createContainer, body: createBody(OpCode.createContainer, path) });
  // Names are hex zxids. log.b also starts before snapshot.20's zxid, so log.1 (all older) is not read.
  writeFileSync(join(v2, 'log.1'), logBytes([container(2n, '/only-in-old-log')]));
  writeFileSync(join(v2, 'log.b'), logBytes([container(0x12n, '/r')]));
  // After the snapshot: /r created as a container, /c deleted and re-created (a plain create).
  writeFileSync(join(v2, 'log.21'), logBytes([
    recordBytes({ zxid: 0x21n, type: OpCode.create, body: createBody(OpCode.create, '/p') }),
    container(0x22n, '/r'),
    recordBytes({ zxid: 0x23n, type: OpCode.delete, body: deleteBody('/c') }),
    recordBytes({ zxid: 0x24n, type: OpCode.create, body: createBody(OpCode.create, '/c') }),
  ]));
  const { image: kinds, report } = loadZkImage(dir);
  assert.equal(report.snapshot, join(v2, 'snapshot.20.gz'));
  assert.equal(report.logs, 2);
  assert.equal(report.txns, 4, "log.b's txn 0x12 is in the snapshot already");
  assert.deepEqual(report.gaps, []);
  assert.equal(kinds.lastZxid, 0x24n);
  assert.equal(report.warnings.length, 3, report.warnings.join('\n'));
  assert.match(report.warnings[0]!, /snapshot\.40\.snappy does not inflate \(not a snappy-java stream/);
  assert.match(report.warnings[1]!, /snapshot\.38\.gz does not inflate/);
  assert.match(report.warnings[2]!, /snapshot\.30 fails its checksum/);
  assert.equal(kinds.kindOf('/t', 16n)?.ttl, 100n);
  assert.equal(kinds.kindOf('/c', 15n), undefined, 'the container was deleted');
  assert.equal(kinds.kindOf('/c', 0x24n), undefined, 'its plain re-creation');
  assert.equal(kinds.read('/c')?.stat.czxid, 0x24n);
  assert.equal(kinds.kindOf('/r', 0x22n)?.kind, 'container');
  assert.equal(kinds.kindOf('/r', 0x12n), undefined, 'only the newest incarnation is known');
  assert.deepEqual(kinds.counts(), { containers: 1, ttls: 1 });
  assert.equal(kinds.kindOf('/only-in-old-log', 2n), undefined);
  assert.equal(kinds.kindOf('/old', 5n), undefined, 'an older snapshot is not read');
  // The version-2 directory given directly reads the same.
  assert.equal(loadZkImage(v2).report.snapshot, report.snapshot);
});

test('a snappy-compressed snapshot is read (snapshot.compression.method=snappy)', (t) => {
  const dir = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir));
  const big = Buffer.alloc(50_000, 0x61);
  writeFileSync(join(dir, 'snapshot.7.snappy'), snappyStream(snapshotBytes([{ path: '', czxid: 0n }, { path: '/big', czxid: 7n, data: big }, { path: '/c', czxid: 6n, owner: CONTAINER }])));
  const { image, report } = loadZkImage(dir);
  assert.deepEqual([report.snapshot, report.warnings], [join(dir, 'snapshot.7.snappy'), []]);
  assert.deepEqual(image.read('/big')?.data, big, 'spread over two blocks');
  assert.equal(image.kindOf('/c', 6n)?.kind, 'container');
});

test('txns missing between the snapshot and the logs, or between logs, are reported as gaps; a new epoch is none', (t) => {
  const dir = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir));
  const epoch = (e: bigint, n: bigint): bigint => (e << 32n) | n;
  const create = (zxid: bigint, path: string): Buffer => recordBytes({ zxid, type: OpCode.create, body: createBody(OpCode.create, path) });
  writeFileSync(join(dir, `snapshot.${epoch(1n, 5n).toString(16)}`), snapshotBytes([{ path: '', czxid: 0n }]));
  // log 1 covers the snapshot (txns up to 5 are in it); epoch 2 starts at counter 1; then 0x…3 skips 0x…2.
  writeFileSync(join(dir, `log.${epoch(1n, 1n).toString(16)}`), logBytes([create(epoch(1n, 5n), '/in-snapshot'), create(epoch(1n, 6n), '/a'), create(epoch(1n, 7n), '/b')]));
  writeFileSync(join(dir, `log.${epoch(2n, 1n).toString(16)}`), logBytes([create(epoch(2n, 1n), '/c'), create(epoch(2n, 3n), '/d')]));
  const { image, report } = loadZkImage(dir);
  assert.deepEqual(report.gaps, ['0x200000002–0x200000002']);
  assert.equal(report.txns, 4);
  assert.deepEqual(['/in-snapshot', '/a', '/b', '/c', '/d'].map((p) => image.read(p) !== undefined), [false, true, true, true, true]);
  // A log missing after the snapshot: the next one starts later than the snapshot's zxid + 1.
  const dir2 = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir2));
  writeFileSync(join(dir2, 'snapshot.5'), snapshotBytes([{ path: '', czxid: 0n }]));
  writeFileSync(join(dir2, 'log.9'), logBytes([create(9n, '/x')]));
  assert.deepEqual(loadZkImage(dir2).report.gaps, ['0x6–0x8']);
  // No snapshot: the logs must start at the first txn (counter 1 of an epoch).
  const dir3 = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir3));
  writeFileSync(join(dir3, `log.${epoch(3n, 1n).toString(16)}`), logBytes([create(epoch(3n, 1n), '/y')]));
  assert.deepEqual(loadZkImage(dir3).report.gaps, []);
  writeFileSync(join(dir3, `log.${epoch(3n, 1n).toString(16)}`), logBytes([create(epoch(3n, 4n), '/y')]));
  assert.deepEqual(loadZkImage(dir3).report.gaps, ['0x1–0x300000003']);
});

test('logs in a separate dataLogDir are read from there', (t) => {
  const dir = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir));
  const [data, logs] = [join(dir, 'data', 'version-2'), join(dir, 'logs', 'version-2')];
  mkdirSync(data, { recursive: true });
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(data, 'snapshot.4'), snapshotBytes([{ path: '', czxid: 0n }, { path: '/s', czxid: 3n, owner: CONTAINER }]));
  writeFileSync(join(logs, 'log.5'), logBytes([recordBytes({ zxid: 5n, type: OpCode.createTTL, body: createBody(OpCode.createTTL, '/l', 42n) })]));
  const { image: kinds, report } = loadZkImage(join(dir, 'data'), join(dir, 'logs'));
  assert.deepEqual([report.logs, report.txns, report.snapshotZnodes], [1, 1, 2]);
  assert.deepEqual(kinds.counts(), { containers: 1, ttls: 1 });
  assert.equal(kinds.kindOf('/l', 5n)?.ttl, 42n);
  // The dataDir alone has no logs: the TTL znode is not known.
  assert.deepEqual(loadZkImage(join(dir, 'data')).image.counts(), { containers: 1, ttls: 0 });
});

test('a directory without ZooKeeper files is refused with what to give instead', (t) => {
  const dir = createTempDir('coracle-zkdata-');
  t.after(() => removeTempDir(dir));
  assert.throws(() => loadZkImage(dir), (e: unknown) => e instanceof MigrationError && /no ZooKeeper snapshot or transaction log in .*--from-data-dir/.test(e.message));
  assert.throws(() => loadZkImage(join(dir, 'missing')), (e: unknown) => e instanceof MigrationError && /cannot read the ZooKeeper data directory/.test(e.message));
});
