/**
 * Edge cases of request validation, replayed through the cross-checker against a real
 * ZooKeeper 3.8 (zk-crosscheck.test.ts): create modes under the wrong op code, TTL limits,
 * odd paths for reads and writes, version edge values, ACL corner cases, data null vs empty.
 */
import { Acl, type ZkRequest } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Runs the edge workload against `host:port`. */
export async function runEdgeWorkload(host: string, port: number): Promise<void> {
  const c = await ZkWireClient.connect({ host, port });
  const cr = (path: string, flags: number, data: Buffer | null = null, acl = OPEN) => ({ path, data, acl, flags });
  const send = c.send.bind(c);
  await send({ op: 'create', ...cr('/edge', 0) });
  // Create modes under each create op code.
  await send({ op: 'create', ...cr('/edge/c1', 4) });
  await send({ op: 'create2', ...cr('/edge/c2', 4) });
  await send({ op: 'createContainer', ...cr('/edge/c3', 0) });
  await send({ op: 'create', ...cr('/edge/t1', 5) });
  await send({ op: 'create2', ...cr('/edge/t2', 6) });
  // (createTTL with a non-TTL mode: ZooKeeper 3.8 drops the connection, or with ttl < 0 stops
  // the whole server; we answer BADARGUMENTS — see zk-ops.test.ts.)
  await send({ op: 'createTTL', ...cr('/edge/t4', 5), ttl: 0xffffffffffn });
  await send({ op: 'createTTL', ...cr('/edge/t5', 5), ttl: 0x10000000000n });
  await send({ op: 'createTTL', ...cr('/edge/t6', 5), ttl: -1n });
  await send({ op: 'create', ...cr('/edge/neg', -1) });
  // Null vs empty data.
  await send({ op: 'create', ...cr('/edge/null', 0, null) });
  await send({ op: 'create', ...cr('/edge/empty', 0, Buffer.alloc(0)) });
  await send({ op: 'getData', path: '/edge/null', watch: false });
  await send({ op: 'getData', path: '/edge/empty', watch: false });
  await send({ op: 'setData', path: '/edge/empty', data: null, version: -1 });
  await send({ op: 'getData', path: '/edge/empty', watch: false });
  // Odd paths on reads and writes.
  for (const path of ['', 'x', '/edge/', '/edge//x', '/edge/.', '/edge/..', '/edge/a\u0000b', '/edge/\u0001']) {
    await send({ op: 'exists', path, watch: false });
    await send({ op: 'getData', path, watch: false });
    await send({ op: 'getChildren', path, watch: false });
    await send({ op: 'setData', path, data: null, version: -1 });
    await send({ op: 'delete', path, version: -1 });
    await send({ op: 'create', ...cr(path, 0) });
    await send({ op: 'create', ...cr(path, 2) });
  }
  await send({ op: 'create', ...cr('/edge/', 2) });
  await send({ op: 'create', ...cr('/', 0) });
  await send({ op: 'delete', path: '/', version: -1 });
  await send({ op: 'delete', path: '/zookeeper/config', version: -1 });
  await send({ op: 'setData', path: '/zookeeper/config', data: Buffer.from('x'), version: -1 });
  await send({ op: 'create', ...cr('/zookeeper/mine', 0) });
  await send({ op: 'delete', path: '/zookeeper/mine', version: -1 });
  // Versions.
  await send({ op: 'setData', path: '/edge', data: null, version: -2 });
  await send({ op: 'delete', path: '/edge/null', version: -2 });
  await send({ op: 'setACL', path: '/edge/null', acl: OPEN, version: -2 });
  // ACL corner cases.
  await send({ op: 'setACL', path: '/edge/null', acl: [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }], version: -1 });
  await send({ op: 'getACL', path: '/edge/null' });
  await send({ op: 'getData', path: '/edge/null', watch: false });
  await send({ op: 'setACL', path: '/edge/empty', acl: [{ perms: 31, id: { scheme: 'ip', id: '10.0.0.0/8' } }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: -1 });
  await send({ op: 'getACL', path: '/edge/empty' });
  await send({ op: 'setData', path: '/edge/empty', data: null, version: -1 });
  await send({ op: 'create', ...cr('/edge/dup', 0, null, [OPEN[0]!, OPEN[0]!]) });
  await send({ op: 'getACL', path: '/edge/dup' });
  await send({ op: 'create', ...cr('/edge/ipbad', 0, null, [{ perms: 31, id: { scheme: 'ip', id: '1.2.3.4/33' } }]) });
  await send({ op: 'create', ...cr('/edge/dig', 0, null, [{ perms: 31, id: { scheme: 'digest', id: 'a:b:c' } }]) });
  await send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('nocolon') });
  await send({ op: 'whoAmI' });
  // Sequence numbers after child deletes (the counter counts creates only).
  await send({ op: 'create', ...cr('/edge/sq', 0) });
  await send({ op: 'create', ...cr('/edge/sq/a', 0) });
  await send({ op: 'create', ...cr('/edge/sq/b', 0) });
  await send({ op: 'delete', path: '/edge/sq/a', version: -1 });
  await send({ op: 'create', ...cr('/edge/sq/n-', 2) });
  await send({ op: 'delete', path: '/edge/sq/b', version: -1 });
  await send({ op: 'create', ...cr('/edge/sq/n-', 2) });
  await send({ op: 'getChildren2', path: '/edge/sq', watch: false });
  // Multis that create and delete the same path.
  await send({ op: 'multi', ops: [{ op: 'create', ...cr('/edge/md', 0) }, { op: 'delete', path: '/edge/md', version: -1 }] });
  await send({ op: 'exists', path: '/edge/md', watch: false });
  await send({ op: 'create', ...cr('/edge/re', 0, Buffer.from('old')) });
  await send({ op: 'create', ...cr('/edge/re/kid', 0) });
  await send({ op: 'setData', path: '/edge/re', data: Buffer.from('old2'), version: -1 });
  await send({ op: 'multi', ops: [{ op: 'delete', path: '/edge/re/kid', version: -1 }, { op: 'delete', path: '/edge/re', version: -1 }, { op: 'create', ...cr('/edge/re', 0, Buffer.from('new')) }] });
  await send({ op: 'getData', path: '/edge/re', watch: false });
  await send({ op: 'getChildren2', path: '/edge/re', watch: false });
  await send({ op: 'getChildren2', path: '/edge', watch: false });
  await send({ op: 'getAllChildrenNumber', path: '/nope' });
  await send({ op: 'getEphemerals', prefixPath: 'nope' });
  await watchEdges(host, port);
  await multiEventEdges(host, port);
  await authEdges(host, port);
  await multiAclEdges(host, port);
  await resumeEdges(host, port);
  await pipelineEdges(host, port);
  await quotaEdges(host, port);
  await c.close();
}

/** Watch corner cases: dedup across kinds, setACL firing nothing, removal by type, persistent + standard. */
async function watchEdges(host: string, port: number): Promise<void> {
  const w = await ZkWireClient.connect({ host, port });
  const c = await ZkWireClient.connect({ host, port });
  const mk = (path: string) => c.send({ op: 'create', path, data: null, acl: OPEN, flags: 0 });
  await mk('/we');
  await w.send({ op: 'exists', path: '/we', watch: true });
  await w.send({ op: 'getData', path: '/we', watch: true });
  await w.send({ op: 'getChildren', path: '/we', watch: true });
  await c.send({ op: 'setACL', path: '/we', acl: OPEN, version: -1 });
  await c.send({ op: 'setData', path: '/we', data: Buffer.from('1'), version: -1 });
  await w.send({ op: 'removeWatches', path: '/we', type: 2 });
  await w.send({ op: 'removeWatches', path: '/we', type: 1 });
  await w.send({ op: 'checkWatches', path: '/we', type: 3 });
  await w.send({ op: 'addWatch', path: '/we', mode: 0 });
  await w.send({ op: 'getData', path: '/we', watch: true });
  await mk('/we/k');
  await c.send({ op: 'setData', path: '/we', data: Buffer.from('2'), version: -1 });
  await c.send({ op: 'delete', path: '/we/k', version: -1 });
  await c.send({ op: 'delete', path: '/we', version: -1 });
  await mk('/we');
  await w.send({ op: 'removeWatches', path: '/we', type: 3 });
  await c.send({ op: 'setData', path: '/we', data: Buffer.from('3'), version: -1 });
  await w.send({ op: 'addWatch', path: '/', mode: 1 });
  await mk('/we/deep');
  await mk('/we/deep/er');
  await c.send({ op: 'delete', path: '/we/deep/er', version: -1 });
  await w.send({ op: 'removeWatches', path: '/', type: 3 });
  // 3.8.0 registers a recursive watch in the child table too: removing its Children part
  // succeeds once and leaves the data part, which still reports descendants.
  await w.send({ op: 'addWatch', path: '/we', mode: 1 });
  await w.send({ op: 'removeWatches', path: '/we', type: 1 });
  await w.send({ op: 'removeWatches', path: '/we', type: 1 });
  await mk('/we/r');
  await w.send({ op: 'removeWatches', path: '/we', type: 2 });
  // ...and the child part alone still reports deletions below it.
  await w.send({ op: 'addWatch', path: '/we', mode: 1 });
  await w.send({ op: 'removeWatches', path: '/we', type: 2 });
  await c.send({ op: 'setData', path: '/we/r', data: Buffer.from('4'), version: -1 });
  await c.send({ op: 'delete', path: '/we/r', version: -1 });
  await w.send({ op: 'removeWatches', path: '/we', type: 3 });
  // checkWatches answers for anyone's watch on the path (3.8.0's containsWatcher).
  await c.send({ op: 'exists', path: '/we', watch: true });
  await w.send({ op: 'checkWatches', path: '/we', type: 2 });
  await w.send({ op: 'checkWatches', path: '/we', type: 1 });
  await w.close();
  await c.close();
}

/**
 * Notifications of a multi that changes one path more than once: ZooKeeper fires one event per
 * op, in op order (create + setData, setData twice, delete + create, create + delete,
 * interleaved setData), to standard, persistent and recursive watchers alike.
 */
async function multiEventEdges(host: string, port: number): Promise<void> {
  const c = await ZkWireClient.connect({ host, port });
  const std = await ZkWireClient.connect({ host, port });
  const per = await ZkWireClient.connect({ host, port });
  const cr = (path: string, flags = 0): ZkRequest => ({ op: 'create', path, data: Buffer.from('d'), acl: OPEN, flags });
  const sd = (path: string): ZkRequest => ({ op: 'setData', path, data: Buffer.from('x'), version: -1 });
  const del = (path: string): ZkRequest => ({ op: 'delete', path, version: -1 });
  await c.send(cr('/me'));
  await per.send({ op: 'addWatch', path: '/me', mode: 0 });
  await per.send({ op: 'addWatch', path: '/me/x', mode: 0 });
  await per.send({ op: 'addWatch', path: '/me', mode: 1 });
  await per.send({ op: 'addWatch', path: '/me/y', mode: 0 });
  const cases: [ZkRequest[], ZkRequest[]][] = [
    [[], [cr('/me/x'), sd('/me/x')]],
    [[], [sd('/me/x'), sd('/me/x')]],
    [[], [del('/me/x'), cr('/me/x', 1)]],
    [[del('/me/x')], [cr('/me/x'), del('/me/x')]],
    [[cr('/me/x'), cr('/me/y')], [sd('/me/x'), sd('/me/y'), sd('/me/x')]],
  ];
  for (const [setup, ops] of cases) {
    for (const s of setup) await c.send(s);
    for (const p of ['/me/x', '/me/y']) await std.send({ op: 'exists', path: p, watch: true });
    await std.send({ op: 'getChildren', path: '/me', watch: true });
    await c.send({ op: 'multi', ops });
  }
  await std.close();
  await per.close();
  for (const p of ['/me/x', '/me/y', '/me']) await c.send(del(p));
  await c.close();
}

/** Auth corner cases: the ip scheme, several digests, masking in getACL, a failed auth closing the connection. */
async function authEdges(host: string, port: number): Promise<void> {
  const a = await ZkWireClient.connect({ host, port });
  await a.send({ op: 'auth', type: 0, scheme: 'ip', auth: Buffer.from('10.9.9.9') });
  await a.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('u1:p1') });
  await a.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('u2:p2') });
  await a.send({ op: 'whoAmI' });
  await a.send({ op: 'create', path: '/au', data: null, acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }], flags: 0 });
  await a.send({ op: 'getACL', path: '/au' });
  await a.send({ op: 'create', path: '/au2', data: null, acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }, { perms: 16, id: { scheme: 'digest', id: 'u9:abc' } }], flags: 0 });
  const b = await ZkWireClient.connect({ host, port });
  await b.send({ op: 'getACL', path: '/au2' });
  await b.send({ op: 'getACL', path: '/au' });
  // 3.8.0's exists checks no ACL: b cannot read /au but may stat it (and watch it).
  await b.send({ op: 'exists', path: '/au', watch: true });
  await b.send({ op: 'getData', path: '/au', watch: false });
  await b.send({ op: 'setACL', path: '/au2', acl: OPEN, version: -1 });
  // Notifications go only to connections that may READ the node (the parent, for
  // NodeChildrenChanged) as it was: b watches bob-only nodes under an open parent.
  const bobOnly: Acl[] = [{ perms: 31, id: { scheme: 'digest', id: 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=' } }];
  await a.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('bob:pw') });
  await a.send({ op: 'create', path: '/af', data: null, acl: OPEN, flags: 0 });
  await b.send({ op: 'getChildren', path: '/af', watch: true });
  await b.send({ op: 'exists', path: '/af/s', watch: true });
  await b.send({ op: 'addWatch', path: '/af', mode: 1 });
  await a.send({ op: 'create', path: '/af/s', data: null, acl: bobOnly, flags: 0 });
  await b.send({ op: 'exists', path: '/af/s', watch: true });
  await a.send({ op: 'setData', path: '/af/s', data: Buffer.from('x'), version: -1 });
  await b.send({ op: 'exists', path: '/af/s', watch: true });
  await b.send({ op: 'getChildren', path: '/af', watch: true });
  await a.send({ op: 'delete', path: '/af/s', version: -1 });
  await a.send({ op: 'setACL', path: '/af', acl: bobOnly, version: -1 });
  await a.send({ op: 'create', path: '/af/t', data: null, acl: OPEN, flags: 0 });
  await a.send({ op: 'delete', path: '/af/t', version: -1 });
  await a.send({ op: 'delete', path: '/af', version: -1 });
  await b.send({ op: 'auth', type: 0, scheme: 'nosuch', auth: Buffer.from('x') }).catch(() => undefined);
  await b.waitClosed(2000);
  // The session outlives its connection: end it now. Left to expire, it would spend a zxid
  // ~10 s later on each server at its own moment, in the middle of later requests.
  const { sessionId, passwd } = b.session;
  b.drop();
  await (await ZkWireClient.connect({ host, port, sessionId, passwd })).close();
  await a.close();
}

/**
 * Notifications of a multi are checked against the ACL each node had when its op ran: a parent
 * deleted after its child in the same multi (NodeChildrenChanged is checked against the parent
 * that still existed), a bob-only node created and deleted again in one multi (its watchers may
 * not read it, though the store never holds it), and a node deleted and re-created with another
 * ACL. `b` watches everything while the ACLs are open; `a` (bob) then locks the nodes and runs
 * the multis.
 */
async function multiAclEdges(host: string, port: number): Promise<void> {
  const bobOnly: Acl[] = [{ perms: 31, id: { scheme: 'digest', id: 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=' } }];
  const a = await ZkWireClient.connect({ host, port });
  await a.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('bob:pw') });
  const b = await ZkWireClient.connect({ host, port });
  for (const path of ['/ma', '/ma/p', '/ma/p/c', '/ma/q', '/ma/r']) await a.send({ op: 'create', path, data: null, acl: OPEN, flags: 0 });
  await b.send({ op: 'getChildren', path: '/ma/p', watch: true });
  await b.send({ op: 'addWatch', path: '/ma/q', mode: 0 });
  await b.send({ op: 'addWatch', path: '/ma/x', mode: 0 });
  await b.send({ op: 'addWatch', path: '/ma/r', mode: 0 });
  await b.send({ op: 'getChildren', path: '/ma', watch: true });
  await a.send({ op: 'setACL', path: '/ma/p', acl: bobOnly, version: -1 });
  await a.send({ op: 'setACL', path: '/ma/q', acl: bobOnly, version: -1 });
  await a.send({ op: 'multi', ops: [{ op: 'delete', path: '/ma/p/c', version: -1 }, { op: 'delete', path: '/ma/p', version: -1 }] });
  await a.send({ op: 'multi', ops: [{ op: 'create', path: '/ma/x', data: null, acl: bobOnly, flags: 0 }, { op: 'delete', path: '/ma/x', version: -1 }] });
  await a.send({ op: 'multi', ops: [{ op: 'create', path: '/ma/q/k', data: null, acl: OPEN, flags: 0 }, { op: 'delete', path: '/ma/q', version: -1 }] });
  await a.send({ op: 'multi', ops: [{ op: 'delete', path: '/ma/q', version: -1 }, { op: 'create', path: '/ma/q', data: null, acl: OPEN, flags: 0 }, { op: 'setData', path: '/ma/q', data: Buffer.from('v'), version: -1 }] });
  await a.send({ op: 'multi', ops: [{ op: 'delete', path: '/ma/r', version: -1 }, { op: 'create', path: '/ma/r', data: null, acl: bobOnly, flags: 0 }, { op: 'setData', path: '/ma/r', data: Buffer.from('v'), version: -1 }, { op: 'delete', path: '/ma/r', version: -1 }] });
  await b.send({ op: 'exists', path: '/ma', watch: false });
  await b.close();
  await a.close();
}

/**
 * A session resumed on a new connection re-sends its watches in SetWatches2 from its last
 * zxid, and the server fires what changed while it was away: data changed, a node created, a
 * child added, a node deleted (the cross-checker gives the oracle that zxid in its own terms).
 */
async function resumeEdges(host: string, port: number): Promise<void> {
  const a = await ZkWireClient.connect({ host, port });
  const b = await ZkWireClient.connect({ host, port });
  for (const path of ['/sw', '/sw/k', '/sw/same']) await a.send({ op: 'create', path, data: null, acl: OPEN, flags: 0 });
  let last = 0n;
  for (const req of [
    { op: 'getData', path: '/sw', watch: true }, { op: 'getChildren', path: '/sw', watch: true },
    { op: 'exists', path: '/sw/new', watch: true }, { op: 'getData', path: '/sw/k', watch: true },
    { op: 'getData', path: '/sw/same', watch: true },
  ] as ZkRequest[]) last = (await b.send(req)).header.zxid;
  const { sessionId, passwd } = b.session;
  b.drop();
  const b2 = await ZkWireClient.connect({ host, port, sessionId, passwd, lastZxidSeen: last });
  await a.send({ op: 'setData', path: '/sw', data: Buffer.from('v'), version: -1 });
  await a.send({ op: 'create', path: '/sw/new', data: null, acl: OPEN, flags: 0 });
  await a.send({ op: 'delete', path: '/sw/k', version: -1 });
  await b2.send({
    op: 'setWatches2', relativeZxid: last, dataWatches: ['/sw', '/sw/k', '/sw/same'], existWatches: ['/sw/new'],
    childWatches: ['/sw'], persistentWatches: [], persistentRecursiveWatches: [],
  });
  await a.send({ op: 'setData', path: '/sw/same', data: Buffer.from('w'), version: -1 });
  await b2.send({ op: 'exists', path: '/sw', watch: false });
  await b2.close();
  await a.close();
}

/**
 * Writes pipelined on one connection (sent before any reply): creates under one parent, writes
 * that depend on earlier ones in flight (setData of a node just created, delete of it, setData
 * after setData of one node), failures in the middle (NODEEXISTS, BADVERSION, NONODE), then
 * reads and a multi behind them; a second
 * session watches. ZooKeeper commits them in request order with consecutive zxids.
 */
async function pipelineEdges(host: string, port: number): Promise<void> {
  const c = await ZkWireClient.connect({ host, port });
  const w = await ZkWireClient.connect({ host, port });
  const cr = (path: string, flags = 0): ZkRequest => ({ op: 'create', path, data: Buffer.from('d'), acl: OPEN, flags });
  await c.send(cr('/pl'));
  await w.send({ op: 'getChildren', path: '/pl', watch: true });
  await w.send({ op: 'exists', path: '/pl/b', watch: true });
  await w.send({ op: 'addWatch', path: '/pl', mode: 1 });
  const burst: ZkRequest[] = [
    cr('/pl/a'), cr('/pl/b'), cr('/pl/a'), { op: 'setData', path: '/pl/b', data: Buffer.from('x'), version: 0 },
    { op: 'setData', path: '/pl/b', data: Buffer.from('y'), version: 0 }, cr('/pl/c', 2), cr('/pl/c', 2),
    { op: 'delete', path: '/pl/a', version: -1 }, { op: 'delete', path: '/pl/a', version: -1 }, cr('/pl/b/k'),
    { op: 'create2', path: '/pl/d', data: null, acl: OPEN, flags: 0 }, { op: 'getChildren2', path: '/pl', watch: false },
    { op: 'multi', ops: [{ op: 'check', path: '/pl/b', version: 1 }, { op: 'delete', path: '/pl/b/k', version: -1 }] },
    { op: 'setData', path: '/pl/d', data: Buffer.from('z'), version: -1 },
    // Rewrites of one node, each planned on the one before in flight; one fails in the middle.
    { op: 'setData', path: '/pl/d', data: Buffer.from('z1'), version: 1 }, { op: 'setData', path: '/pl/d', data: null, version: 1 },
    { op: 'setData', path: '/pl/d', data: Buffer.from('z22'), version: 2 }, { op: 'setData', path: '/pl/d', data: null, version: -1 },
    { op: 'getData', path: '/pl/b', watch: false }, { op: 'getData', path: '/pl/d', watch: false },
  ];
  await Promise.all(burst.map((r) => c.send(r)));
  await w.send({ op: 'sync', path: '/' });
  await w.close();
  await c.close();
}

/**
 * Quota statistics as zkCli's setquota leaves them: the server keeps the stats node's data equal
 * to the node count and bytes of the quota'd subtree (no version change), through creates,
 * setData and deletes below it.
 */
export async function quotaEdges(host: string, port: number): Promise<void> {
  const c = await ZkWireClient.connect({ host, port });
  const send = c.send.bind(c);
  const stats = '/zookeeper/quota/qe/zookeeper_stats';
  await send({ op: 'create', path: '/qe', data: Buffer.from('abc'), acl: OPEN, flags: 0 });
  await send({ op: 'create', path: '/qe/a', data: Buffer.from('12345'), acl: OPEN, flags: 0 });
  await send({ op: 'create', path: '/zookeeper/quota/qe', data: null, acl: OPEN, flags: 0 });
  await send({ op: 'create', path: stats, data: Buffer.from('count=0,bytes=0'), acl: OPEN, flags: 0 });
  await send({ op: 'create', path: '/zookeeper/quota/qe/zookeeper_limits', data: Buffer.from('count=10,bytes=-1'), acl: OPEN, flags: 0 });
  await send({ op: 'getData', path: stats, watch: false });
  await send({ op: 'create', path: '/qe/b', data: Buffer.from('xy'), acl: OPEN, flags: 0 });
  await send({ op: 'create', path: '/qe/a/deep', data: null, acl: OPEN, flags: 0 });
  await send({ op: 'setData', path: '/qe/a', data: Buffer.from('1'), version: -1 });
  await send({ op: 'exists', path: stats, watch: false });
  await send({ op: 'getData', path: stats, watch: false });
  await send({ op: 'delete', path: '/qe/b', version: -1 });
  await send({ op: 'getData', path: stats, watch: false });
  await send({ op: 'getData', path: '/zookeeper/quota/qe/zookeeper_limits', watch: false });
  await c.close();
}
