/**
 * `coracle zk-migrate --from-data-dir` without `--from`: an offline copy of a STOPPED Apache
 * ZooKeeper 3.8, from its files alone. Batch 1 of the workload is in a (snappy-compressed) snapshot (ZooKeeper takes
 * one when it starts, so a restart puts it there), batch 2 only in the transaction log: creates
 * of every kind, deletes, setData, setACL, a successful and a failed multi, a session closed
 * (its ephemeral goes with the closeSession txn) and one still open when ZooKeeper stops (its
 * ephemeral is still in the files). The copy must then read, znode for znode, as the source
 * read while it ran: data (binary and null), ACL, version, aversion, cversion, ctime, mtime,
 * children, ephemeralOwner; the open session is carried over with its ephemeral, and its client
 * resumes it on Coracle with the id and password ZooKeeper gave it (a wrong password is told
 * "expired"); closing it there deletes the ephemeral as ZooKeeper would. A dry run with
 * --skip-sessions would leave the ephemeral out. Containers and TTL znodes keep their kind;
 * /zookeeper is not copied; a second run keeps everything; a sequential create on the copy
 * gives the name the restarted source gives. Flags that only make sense against a live source
 * are usage errors without --from, and a directory without ZooKeeper's files is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { znodeView } from '../support/znode-view';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { Acl, CreateMode, OpCode } from '../../protocol/jute';
import { createBody, logBytes, recordBytes, snapshotBytes } from '../unit/zkproxy/migrate/zk-data-writer';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const ALICE: Acl[] = [{ perms: 31, id: { scheme: 'digest', id: `alice:${createHash('sha1').update('alice:pw').digest('base64')}` } }];
/** Everything but DELETE, so a setACL changes what a client reads back. */
const NO_DELETE: Acl[] = [{ perms: 23, id: { scheme: 'world', id: 'anyone' } }];
const HOUR_MS = 3_600_000;

type Req = Parameters<ZkWireClient['send']>[0];
type View = Record<string, unknown>;
type Run = { status: number | null; stdout: string; stderr: string };

async function ok(c: ZkWireClient, req: Req): Promise<void> {
  const r = await c.send(req);
  assert.equal(r.header.err, 0, `${req.op} ${'path' in req ? req.path : ''}`);
}

const buf = (data: string | Buffer | null): Buffer | null => (typeof data === 'string' ? Buffer.from(data) : data);
const persistent = (p: string, data: string | Buffer | null = null, acl = OPEN): Req => ({ op: 'create', path: p, data: buf(data), acl, flags: CreateMode.PERSISTENT });
const sequential = (p: string): Req => ({ op: 'create', path: p, data: null, acl: OPEN, flags: CreateMode.PERSISTENT_SEQUENTIAL });
const container = (p: string): Req => ({ op: 'createContainer', path: p, data: null, acl: OPEN, flags: CreateMode.CONTAINER });
const withTtl = (p: string, data: string): Req => ({ op: 'createTTL', path: p, data: Buffer.from(data), acl: OPEN, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: BigInt(HOUR_MS) });
const setData = (p: string, data: string, version: number): Req => ({ op: 'setData', path: p, data: Buffer.from(data), version });
const del = (p: string): Req => ({ op: 'delete', path: p, version: -1 });

function migrate(args: readonly string[]): Run {
  const r = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const out = (r: Run): string => `status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function snapshots(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, 'version-2')).filter((f) => f.startsWith('snapshot.')).sort();
}

/** Every znode under / but /zookeeper's subtree, as a client sees it (full view), by path. */
async function walk(c: ZkWireClient): Promise<Map<string, View>> {
  const views = new Map<string, View>();
  const queue = ['/'];
  while (queue.length > 0) {
    assert.ok(views.size < 200, 'the tree is small: a longer walk is a loop');
    const p = queue.shift()!;
    const v = await znodeView(c, p, true);
    assert.ok(v, `${p} exists`);
    views.set(p, v);
    for (const child of v.children as string[]) {
      const cp = p === '/' ? `/${child}` : `${p}/${child}`;
      if (cp !== '/zookeeper') queue.push(cp);
    }
  }
  return views;
}

/** The open session's ephemeral, still in the files when ZooKeeper stops. */
const OPEN_EPHEMERAL = '/app/eph-open';
/** The persistent znodes the copy writes: the root included (as in zk-migrate-kinds), /zookeeper not. */
const PERSISTENT = [
  '/', '/app', '/app/bin', '/app/bin/big', '/app/null', '/app/m', '/app/lock', '/app/lock/held', '/app/ttl-long',
  '/app/q', '/app/q/job-0000000002', '/app/q/job-0000000004', '/app/q/job-0000000005', '/app/q/job-0000000006', '/app/q/job-0000000007',
  '/secure', '/svc', '/svc/lock', '/svc/lock/held', '/svc/ttl',
];
/** With the open session's ephemeral. */
const COPIED = [...PERSISTENT, OPEN_EPHEMERAL];
/**
 * Their data bytes: 'root data' 9, /app 'cfg4' 4, /app/bin 4, big 5000, held 'me' 2, ttl-long
 * 'lease' 5, /app/m 'm2' 2, /secure 'secret2' 7, /svc 'v1' 2, /svc/lock/held 'h' 1, /svc/ttl
 * 'lease2' 6; the ephemeral's 'open' 4.
 */
const BYTES = 5046;
/** Containers /app/lock (snapshot) and /svc/lock (log, in a multi); TTL /app/ttl-long (snapshot) and /svc/ttl (log, in a multi). */
const KINDS = '2 containers and 2 TTL znodes';
const FIRST = `copied ${COPIED.length} znodes (${BYTES} bytes of data); 0 already there, kept; 0 ephemerals not copied; ${KINDS} kept their kind; 1 sessions carried over with 1 ephemerals\n`;
const DRY = `would copy ${COPIED.length} znodes (${BYTES} bytes of data); 0 already there, kept; 0 ephemerals not copied; ${KINDS} would keep their kind; 1 sessions would be carried over with 1 ephemerals\n`;
const DRY_SKIP = `would copy ${PERSISTENT.length} znodes (${BYTES - 4} bytes of data); 0 already there, kept; 1 ephemerals not copied; ${KINDS} would keep their kind\n`;
/** Kinds count the znodes written, as in the live copy: none on a second run. The session is there already, and kept. */
const SECOND = `copied 0 znodes (0 bytes of data); ${COPIED.length} already there, kept; 0 ephemerals not copied; 0 containers and 0 TTL znodes kept their kind; 1 sessions carried over with 0 ephemerals\n`;

test('zk-migrate --from-data-dir without --from copies a stopped ZooKeeper from its snapshot and logs', { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  // TTL znodes need extended types; an hour's check interval keeps the source from reaping anything itself.
  // Its snapshots snappy-compressed, as snapshot.compression.method=snappy writes them (the plain
  // layout is read from a real ZooKeeper in zk-migrate-kinds.test.ts).
  const zk = await startZookeeper({ logLevel: 'warn', jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true', '-Dznode.container.checkIntervalMs=3600000', '-Dzookeeper.snapshot.compression.method=snappy'] });
  const cleanups: (() => Promise<unknown>)[] = [async () => zk.stop()];
  const connect = async (port: number): Promise<ZkWireClient> => {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
    cleanups.push(() => c.close());
    // Alice's digest, to read /secure (data and ACL) on either side.
    await ok(c, { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('alice:pw') });
    return c;
  };
  try {
    // Batch 1: ends up in a snapshot.
    const b1 = await connect(zk.port);
    await ok(b1, setData('/', 'root data', -1));
    await ok(b1, persistent('/app', 'cfg'));
    for (let i = 1; i <= 3; i++) await ok(b1, setData('/app', `cfg${i}`, i - 1));
    await ok(b1, persistent('/app/null'));
    await ok(b1, persistent('/app/bin', Buffer.from([0, 255, 1, 254])));
    await ok(b1, persistent('/app/bin/big', Buffer.alloc(5000, 7)));
    await ok(b1, persistent('/secure', 'secret', ALICE));
    await ok(b1, { op: 'setACL', path: '/secure', acl: ALICE, version: 0 });
    await ok(b1, { op: 'setACL', path: '/secure', acl: ALICE, version: 1 });
    // Five sequential children, two deleted: cversion 7, numChildren 3.
    await ok(b1, persistent('/app/q'));
    for (let i = 0; i < 5; i++) await ok(b1, sequential('/app/q/job-'));
    await ok(b1, del('/app/q/job-0000000001'));
    await ok(b1, del('/app/q/job-0000000003'));
    await ok(b1, container('/app/lock'));
    await ok(b1, persistent('/app/lock/held', 'me'));
    await ok(b1, withTtl('/app/ttl-long', 'lease'));
    await ok(b1, persistent('/app/tmp'));
    await ok(b1, { op: 'multi', ops: [persistent('/app/m', 'm'), setData('/app/m', 'm2', 0), del('/app/tmp')] });
    // A failed multi is logged too (as error txns): none of its ops may take effect.
    const failed = await b1.send({ op: 'multi', ops: [persistent('/app/failed', 'no'), del('/app/nope')] });
    const results = (failed.body as { results: { type: string; err?: number }[] }).results;
    assert.deepEqual(results[1], { type: 'error', err: -101 }, 'the multi fails on its delete (NONODE)');
    await b1.close();

    // ZooKeeper 3.8 writes a snapshot of what it loaded each time it starts (snapshot.0 on the
    // first, empty start): after the restart one holds batch 1.
    await zk.restart();
    const snaps = snapshots(zk.dataDir);
    assert.ok(snaps.some((f) => /^snapshot\.[0-9a-f]+\.snappy$/.test(f) && f !== 'snapshot.0.snappy'), `a snappy snapshot past the empty one after the restart: ${snaps.join(', ')}`);

    // Batch 2: only in the transaction log.
    const b2 = await connect(zk.port);
    await ok(b2, { op: 'create2', path: '/svc', data: Buffer.from('v0'), acl: OPEN, flags: CreateMode.PERSISTENT });
    await ok(b2, setData('/svc', 'v1', 0));
    await ok(b2, persistent('/svc/tmp'));
    await ok(b2, del('/svc/tmp'));
    await ok(b2, { op: 'setACL', path: '/app/bin', acl: NO_DELETE, version: 0 });
    await ok(b2, setData('/secure', 'secret2', 0));
    await ok(b2, del('/app/q/job-0000000000'));
    // A multi that creates a container (with a child) and a TTL znode: their kinds come from its subtxns.
    await ok(b2, { op: 'multi', ops: [container('/svc/lock'), persistent('/svc/lock/held', 'h'), withTtl('/svc/ttl', 'lease2'), setData('/app', 'cfg4', 3)] });
    // job-0000000005 to 7: ZooKeeper numbers by the creates under the parent, not the deletes.
    for (let i = 0; i < 3; i++) await ok(b2, sequential('/app/q/job-'));
    await b2.close();
    // A session that ends: its ephemeral (taking a sequence number) goes with the closeSession txn.
    const closer = await connect(zk.port);
    await ok(closer, { op: 'create', path: '/app/q/lock-', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL_SEQUENTIAL });
    await closer.close();
    // A session still open when ZooKeeper stops: its ephemeral stays in the files.
    const holder = await connect(zk.port);
    await ok(holder, { op: 'create', path: OPEN_EPHEMERAL, data: Buffer.from('open'), acl: OPEN, flags: CreateMode.EPHEMERAL });
    assert.deepEqual(snapshots(zk.dataDir), snaps, 'batch 2 is in no snapshot');

    // The source as clients see it, read while it runs.
    const src = await connect(zk.port);
    const before = await walk(src);
    assert.deepEqual([...before.keys()].sort(), [...COPIED].sort(), 'the source tree (the failed multi left nothing)');
    assert.equal(before.get(OPEN_EPHEMERAL)!.ephemeralOwner, holder.session.sessionId, `${OPEN_EPHEMERAL} is the holder's ephemeral`);
    assert.equal(COPIED.reduce((n, p) => n + ((before.get(p)!.data as string | null) ?? '').length / 2, 0), BYTES, 'BYTES is the sum of the data');
    await src.close();

    // Stop ZooKeeper (SIGTERM) without closing the holder's session; zk.stop() would also remove
    // the data dir, so only the process is stopped here, and zk.restart() can start it again.
    await zk.process.stop();
    holder.drop();

    const coracle = await startCoracle(['--zk-container-check-ms', String(HOUR_MS)]);
    cleanups.push(() => coracle.stop());
    const offline = ['--from-data-dir', zk.dataDir, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`];

    const dry = migrate(['--dry-run', ...offline]);
    assert.equal(dry.status, 0, out(dry));
    assert.equal(dry.stdout, DRY, out(dry));
    const drySkip = migrate(['--dry-run', '--skip-sessions', ...offline]);
    assert.equal(drySkip.status, 0, out(drySkip));
    assert.equal(drySkip.stdout, DRY_SKIP, out(drySkip));

    const first = migrate(offline);
    assert.equal(first.status, 0, out(first));
    assert.equal(first.stdout, FIRST, out(first));
    // The snappy snapshot was read, not passed over, and nothing was warned of.
    assert.match(first.stderr, /read \S+\/snapshot\.[0-9a-f]+\.snappy \(\d+ znodes\) and \d+ transaction logs/, out(first));
    assert.doesNotMatch(first.stderr, /warning/, out(first));

    const dst = await connect(coracle.zkPort);
    const after = await walk(dst);
    // The failed multi's znode is not there; nothing else is extra.
    assert.deepEqual([...after.keys()].sort(), [...COPIED].sort(), 'the copied tree');
    for (const p of COPIED) {
      const [got, want] = [after.get(p)!, before.get(p)!];
      if (p === '/') {
        // The root's times are 0 on ZooKeeper and its children include /zookeeper: data and versions.
        assert.deepEqual([got.data, got.version, got.cversion], [want.data, want.version, want.cversion], 'the root');
      } else {
        assert.deepEqual(got, want, p);
      }
    }

    // Run again: everything is there already and kept.
    const second = migrate(offline);
    assert.equal(second.status, 0, out(second));
    assert.equal(second.stdout, SECOND, out(second));

    await checkResume(coracle.zkPort, holder.session, before.get(path.posix.dirname(OPEN_EPHEMERAL))!);

    // A directory with nothing of ZooKeeper's in it.
    const empty = createTempDir('coracle-zk-empty-');
    try {
      const bad = migrate(['--from-data-dir', empty, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`]);
      assert.equal(bad.status, 1, out(bad));
      assert.match(bad.stderr, /no ZooKeeper snapshot or transaction log/, out(bad));
    } finally {
      removeTempDir(empty);
    }

    // Sequential names carry on: the restarted source (same files) and the copy give the same
    // name. ZooKeeper numbers from the count of creates under the parent (the closed session's
    // lock- among them), which a client reads as (cversion + numChildren) / 2: DataNode.copyStat
    // shows cversion as creates + deletes.
    await zk.restart();
    const again = await connect(zk.port);
    const next = async (c: ZkWireClient): Promise<string> => {
      const r = await c.send(sequential('/app/q/n-'));
      assert.equal(r.header.err, 0, 'sequential create');
      return (r.body as { path: string }).path;
    };
    const name = await next(again);
    const q = before.get('/app/q')!;
    const creates = ((q.cversion as number) + (q.numChildren as number)) / 2;
    assert.equal(name, `/app/q/n-${String(creates).padStart(10, '0')}`, 'the source numbers from its count of creates');
    assert.equal(await next(dst), name, 'the copy gives the same name');
  } finally {
    // Clients first, then the servers, each even if another fails.
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
});

/**
 * The holder, moving over: a wrong password is told "expired"; ZooKeeper's own resumes the
 * session, answered with the same password, its ephemeral still there; closing it deletes the
 * ephemeral, and the parent's cversion moves by one as on ZooKeeper.
 */
async function checkResume(port: number, held: { sessionId: bigint; passwd: Buffer }, parentBefore: View): Promise<void> {
  const wrong = Buffer.from(held.passwd);
  wrong[0]! ^= 1;
  const refused = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000, sessionId: held.sessionId, passwd: wrong });
  assert.equal(refused.session.timeOut, 0, 'a wrong password: expired');
  await refused.close().catch(() => undefined);
  const back = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000, sessionId: held.sessionId, passwd: held.passwd });
  try {
    assert.ok(back.session.timeOut > 0, 'the session is resumed');
    assert.equal(back.session.sessionId, held.sessionId, 'the same session');
    assert.deepEqual(back.session.passwd, held.passwd, 'with the password ZooKeeper gave it');
    const eph = await znodeView(back, OPEN_EPHEMERAL);
    assert.equal(eph?.ephemeralOwner, held.sessionId, 'its ephemeral is there, owned by it');
  } finally {
    await back.close();
  }
  const reader = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
  try {
    assert.equal(await znodeView(reader, OPEN_EPHEMERAL), undefined, 'closing the session deleted its ephemeral');
    const parent = await znodeView(reader, path.posix.dirname(OPEN_EPHEMERAL));
    assert.equal(parent?.cversion, (parentBefore.cversion as number) + 1, "the parent's cversion moved by the delete");
  } finally {
    await reader.close();
  }
}

test('zk-migrate without --from: source-connection flags and a missing source are usage errors; files lacking txns are refused', { timeout: 60_000 }, () => {
  const dir = createTempDir('coracle-zk-usage-');
  try {
    const endpoints = ['--endpoints', 'http://127.0.0.1:1'];
    const none = migrate(endpoints);
    assert.equal(none.status, 2, `neither --from nor --from-data-dir\n${out(none)}`);
    // These only say how to reach a live source; with the files alone they would be ignored silently.
    for (const flags of [['--from-auth', 'digest:a:b'], ['--from-cacert', '/nonexistent/ca.pem'], ['--from-cert', '/nonexistent/c.pem'], ['--from-key', '/nonexistent/k.pem'],
      ['--from-cacert', '/nonexistent/ca.pem', '--from-cert', '/nonexistent/c.pem', '--from-key', '/nonexistent/k.pem']]) {
      const r = migrate(['--from-data-dir', dir, ...flags, ...endpoints]);
      assert.equal(r.status, 2, `${flags.join(' ')} without --from\n${out(r)}`);
      assert.equal(r.stdout, '', out(r));
    }
    const liveSkip = migrate(['--from', '127.0.0.1:1', '--skip-sessions', ...endpoints]);
    assert.equal(liveSkip.status, 2, out(liveSkip));
    assert.match(liveSkip.stderr, /--skip-sessions is for a copy of the files/, out(liveSkip));
    // Files that lack txns (a log gone between the snapshot and the next log): nothing is copied,
    // and the message says what is missing before anything connects (the endpoint is unreachable).
    fs.writeFileSync(path.join(dir, 'snapshot.5'), snapshotBytes([{ path: '', czxid: 0n }]));
    fs.writeFileSync(path.join(dir, 'log.9'), logBytes([recordBytes({ zxid: 9n, type: OpCode.create, body: createBody(OpCode.create, '/x') })]));
    const gap = migrate(['--from-data-dir', dir, ...endpoints]);
    assert.equal(gap.status, 1, out(gap));
    assert.match(gap.stderr, /the logs lack the txns of zxids 0x6–0x8 .*nothing was copied; copy from the live ZooKeeper instead/, out(gap));
  } finally {
    removeTempDir(dir);
  }
});
