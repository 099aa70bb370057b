/**
 * The tree rebuilt from a ZooKeeper's files (zkproxy/migrate/zk-image.ts) applies txns as
 * ZooKeeper's DataTree does on restart: the numbers a client reads (cversion from the create
 * count, ephemeralOwner hidden for containers and TTL znodes), the fuzzy-snapshot cases (a create
 * that finds its node, a delete that finds none), multis, and sessions opening and closing. The txn decoder
 * (zk-txn.ts) is checked through the log reader on bytes laid out as ZooKeeper writes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl, JuteWriter, OpCode } from '../../../../protocol/jute';
import { ZkImage } from '../../../../zkproxy/migrate/zk-image';
import { PersistedNode } from '../../../../zkproxy/migrate/zk-snapshot-reader';
import { CreateTxn, LoggedTxn, ZkTxn } from '../../../../zkproxy/migrate/zk-txn';
import { readTxnLog } from '../../../../zkproxy/migrate/zk-txn-log-reader';
import { closeSessionBody, createBody, deleteBody, errorBody, logBytes, multiBody, recordBytes, setAclBody, setDataBody } from './zk-data-writer';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ_ONLY: Acl[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
const CONTAINER = -(1n << 63n);
const S1 = 0x100n;
const S2 = 0x200n;

function node(path: string, czxid: bigint, o: Partial<PersistedNode> = {}): PersistedNode {
  return { path, data: null, acl: OPEN, czxid, mzxid: czxid, ctime: 1n, mtime: 1n, version: 0, cversion: 0, aversion: 0, owner: 0n, pzxid: czxid, ...o };
}

/** A snapshot at zxid 10: the root, /zookeeper, and /app with two of the three children ever created under it. */
function base(): ZkImage {
  return ZkImage.fromSnapshot([
    node('', 0n, { cversion: 2 }), node('/zookeeper', 0n), node('/app', 2n, { cversion: 3, pzxid: 9n }),
    node('/app/a', 3n, { data: Buffer.from('a') }), node('/app/c', 8n, { owner: CONTAINER }),
  ], 10n, 'snapshot.a');
}

const create = (path: string, o: Partial<CreateTxn> = {}): CreateTxn => ({ op: 'create', type: OpCode.create, path, data: Buffer.from('x'), acl: OPEN, ephemeral: false, kind: 'plain', ttl: 0n, parentCVersion: -1, ...o });
const at = (zxid: bigint, txn: ZkTxn, clientId = S1): LoggedTxn => ({ zxid, clientId, time: 1000n + zxid, txn });

test('a client reads cversion as creates plus deletes, and the kinds hide behind ephemeralOwner 0', () => {
  const image = base();
  const app = image.read('/app')!;
  assert.deepEqual([app.stat.cversion, app.stat.numChildren, app.stat.pzxid], [4, 2, 9n], 'three creates, one delete');
  assert.deepEqual(app.children.sort(), ['a', 'c']);
  assert.equal(image.read('/app/c')!.stat.ephemeralOwner, 0n, 'a container shows no owner');
  assert.equal(image.kindOf('/app/c', 8n)?.kind, 'container');
  assert.deepEqual(image.read('/app/a')!.stat.dataLength, 1);
  assert.equal(image.read('/')!.stat.numChildren, 2, '"/" is the root');
  assert.equal(image.read('/missing'), undefined);
  assert.deepEqual(image.counts(), { containers: 1, ttls: 0 });
  assert.throws(() => ZkImage.fromSnapshot([node('', 0n), node('/x/y', 3n)], 5n, 'snapshot.5'), /\/x\/y comes before its parent/);
});

test('creates, setData, setACL and deletes move the numbers as ZooKeeper does', () => {
  const image = base();
  image.apply(at(11n, create('/app/b', { ephemeral: true })));
  image.apply(at(12n, create('/app/t', { type: OpCode.createTTL, kind: 'ttl', ttl: 5000n, parentCVersion: 5 })));
  image.apply(at(13n, { op: 'setData', path: '/app/a', data: Buffer.from('aa'), version: 7 }));
  image.apply(at(14n, { op: 'setACL', path: '/app/a', acl: READ_ONLY, version: 2 }));
  image.apply(at(15n, { op: 'delete', path: '/app/c' }));
  const app = image.read('/app')!;
  // Creates: 3 + 1, then 5 by the TTL create's parentCVersion; children a, b, t.
  assert.deepEqual([app.stat.cversion, app.stat.numChildren, app.stat.pzxid], [2 * 5 - 3, 3, 15n]);
  const b = image.read('/app/b')!;
  assert.deepEqual([b.stat.ephemeralOwner, b.stat.czxid, b.stat.mzxid, b.stat.ctime, b.stat.pzxid], [S1, 11n, 11n, 1011n, 11n]);
  assert.deepEqual(image.kindOf('/app/t', 12n), { path: '/app/t', czxid: 12n, kind: 'ttl', ttl: 5000n });
  assert.equal(image.read('/app/t')!.stat.ephemeralOwner, 0n);
  const a = image.read('/app/a')!;
  assert.deepEqual([a.data?.toString(), a.stat.version, a.stat.mzxid, a.stat.mtime, a.stat.aversion, a.acl], ['aa', 7, 13n, 1013n, 2, READ_ONLY]);
  assert.equal(image.read('/app/c'), undefined);
  assert.equal(image.lastZxid, 15n);
  // The root goes by "/" in txns (DataTree keys it both "" and "/").
  image.apply(at(16n, { op: 'setData', path: '/', data: Buffer.from('r'), version: 1 }));
  image.apply(at(17n, { op: 'setACL', path: '/', acl: READ_ONLY, version: 1 }));
  const root = image.read('/')!;
  assert.deepEqual([root.data?.toString(), root.stat.version, root.stat.mzxid, root.stat.aversion, root.acl], ['r', 1, 16n, 1, READ_ONLY]);
});

test('a fuzzy snapshot: a create that finds its node, a delete that finds none', () => {
  const image = base();
  // A plain create of a node the snapshot has already: the parent's create count and pzxid move to the txn's, its ACL is the txn's.
  image.apply(at(11n, create('/app/a', { acl: READ_ONLY, parentCVersion: 6 })));
  let app = image.read('/app')!;
  assert.deepEqual([app.stat.cversion, app.stat.pzxid], [2 * 6 - 2, 11n]);
  assert.deepEqual(image.read('/app/a')!.acl, READ_ONLY);
  assert.equal(image.read('/app/a')!.data?.toString(), 'a', 'the data stays');
  // create2 gets no such fix-up; a lower count does not lower it.
  image.apply(at(12n, create('/app/a', { type: OpCode.create2, parentCVersion: 9 })));
  image.apply(at(13n, create('/app/z', { parentCVersion: 2 })));
  app = image.read('/app')!;
  assert.deepEqual([app.stat.cversion, app.stat.pzxid, app.stat.numChildren], [2 * 6 - 3, 11n, 3]);
  // A delete of a node gone already still moves the parent's pzxid; one of an older zxid does not.
  image.apply(at(20n, { op: 'delete', path: '/app/gone' }));
  assert.equal(image.read('/app')!.stat.pzxid, 20n);
  // Under a missing parent nothing happens.
  image.apply(at(21n, create('/nope/x')));
  image.apply(at(22n, { op: 'setData', path: '/nope', data: null, version: 1 }));
  assert.equal(image.read('/nope/x'), undefined);
  assert.equal(image.lastZxid, 22n);
});

test('a multi applies its txns in order; a failed one nothing', () => {
  const image = base();
  image.apply(at(11n, { op: 'multi', failed: false, txns: [create('/app/m'), { op: 'setData', path: '/app/m', data: Buffer.from('m1'), version: 1 }, { op: 'delete', path: '/app/a' }, { op: 'other', type: OpCode.check }] }));
  image.apply(at(12n, { op: 'multi', failed: true, txns: [] }));
  assert.deepEqual(image.read('/app/m')!.data?.toString(), 'm1');
  assert.deepEqual([image.read('/app/m')!.stat.czxid, image.read('/app/m')!.stat.mzxid], [11n, 11n]);
  assert.equal(image.read('/app/a'), undefined);
  assert.equal(image.lastZxid, 12n);
});

test("a closed session's ephemerals go, listed or not; another session's stay", () => {
  const image = base();
  image.apply(at(11n, create('/app/e1', { ephemeral: true }), S1));
  image.apply(at(12n, create('/app/e2', { ephemeral: true }), S1));
  image.apply(at(13n, create('/app/f', { ephemeral: true }), S2));
  image.apply(at(14n, { op: 'closeSession', paths: ['/app/e1'] }, S1));
  assert.deepEqual(image.read('/app')!.children.sort(), ['a', 'c', 'f']);
  assert.equal(image.read('/app')!.stat.pzxid, 14n);
  image.apply(at(15n, { op: 'closeSession', paths: undefined }, S2));
  assert.deepEqual(image.read('/app')!.children.sort(), ['a', 'c']);
});

test('the open sessions: the snapshot\'s, plus each createSession, minus each closeSession', () => {
  const image = ZkImage.fromSnapshot([node('', 0n)], 10n, 'snapshot.a', new Map([[S1, 30000], [S2, 4000]]));
  image.apply(at(11n, { op: 'createSession', timeoutMs: 10000 }, 0x300n));
  image.apply(at(12n, { op: 'closeSession', paths: [] }, S1));
  assert.deepEqual([...image.openSessions()], [[S2, 4000], [0x300n, 10000]]);
  assert.equal(ZkImage.empty().openSessions().size, 0, 'a ZooKeeper without a snapshot starts with none');
});

test('the log reader decodes every txn a tree needs from ZooKeeper\'s layout', () => {
  const log = logBytes([
    recordBytes({ zxid: 11n, type: OpCode.create2, session: S2, body: createBody(OpCode.create2, '/e', 0n, { ephemeral: true, data: null, acl: READ_ONLY, parentCVersion: 4 }) }),
    recordBytes({ zxid: 12n, type: OpCode.setData, body: setDataBody('/e', Buffer.from([0, 255]), 3) }),
    recordBytes({ zxid: 13n, type: OpCode.setACL, body: setAclBody('/e', OPEN, 5) }),
    recordBytes({ zxid: 14n, type: OpCode.deleteContainer, body: deleteBody('/c') }),
    recordBytes({ zxid: 15n, type: OpCode.closeSession, session: S2, body: closeSessionBody(['/e']) }),
    recordBytes({ zxid: 16n, type: OpCode.closeSession, body: closeSessionBody(undefined) }),
    recordBytes({ zxid: 17n, type: OpCode.error, body: errorBody(-101) }),
    recordBytes({ zxid: 18n, type: OpCode.multi, body: multiBody([{ type: OpCode.delete, body: deleteBody('/x') }, { type: OpCode.setData, body: setDataBody('/y', null, 1) }]) }),
    // CreateSessionTxn: the negotiated timeout.
    recordBytes({ zxid: 19n, type: OpCode.createSession, session: S2, body: new JuteWriter().writeInt(12000).toBuffer() }),
  ]);
  const c = readTxnLog(log, 'log.b');
  assert.equal(c.unreadable, 0);
  assert.deepEqual(c.txns.map((t) => t.txn), [
    { op: 'create', type: OpCode.create2, path: '/e', data: null, acl: READ_ONLY, ephemeral: true, kind: 'plain', ttl: 0n, parentCVersion: 4 },
    { op: 'setData', path: '/e', data: Buffer.from([0, 255]), version: 3 },
    { op: 'setACL', path: '/e', acl: OPEN, version: 5 },
    { op: 'delete', path: '/c' },
    { op: 'closeSession', paths: ['/e'] },
    { op: 'closeSession', paths: undefined },
    { op: 'other', type: OpCode.error },
    { op: 'multi', failed: false, txns: [{ op: 'delete', path: '/x' }, { op: 'setData', path: '/y', data: null, version: 1 }] },
    { op: 'createSession', timeoutMs: 12000 },
  ]);
  assert.deepEqual([c.txns[0]!.clientId, c.txns[4]!.clientId, c.txns[8]!.clientId], [S2, S2, S2]);
});
