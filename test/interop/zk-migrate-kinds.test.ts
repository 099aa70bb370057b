/**
 * `coracle zk-migrate --from-data-dir`: a real ZooKeeper 3.8's snapshot and transaction log tell
 * the copy which znodes are containers and TTL znodes, which the client protocol hides (their
 * Stat says ephemeralOwner 0). The kinds of batch 1 are learned from a snapshot (ZooKeeper takes
 * one when it starts, so a restart puts batch 1 in one), those of batch 2 from the log only. After
 * the copy Coracle's reaper deletes an emptied container and an expired TTL znode as ZooKeeper's
 * ContainerManager would, while a persistent znode with the same history, a long TTL, and a
 * container deleted and re-created persistent at the same path (a new czxid) stay. Without the
 * flag the same znodes arrive persistent and stay; a data dir with nothing of ZooKeeper's in it
 * is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle, type CoracleServer } from '../support/coracle-server';
import { pollUntil, sleep } from '../support/poll';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { znodeView } from '../support/znode-view';
import { Acl, CreateMode, Stat } from '../../protocol/jute';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const NO_NODE = -101;
/** Coracle's reaper interval in this test (--zk-container-check-ms). */
const CHECK_MS = 300;

type Req = Parameters<ZkWireClient['send']>[0];

async function ok(c: ZkWireClient, req: Req): Promise<void> {
  const r = await c.send(req);
  assert.equal(r.header.err, 0, `${req.op} ${'path' in req ? req.path : ''}`);
}

const persistent = (path: string, data: string | null = null): Req => ({ op: 'create', path, data: data === null ? null : Buffer.from(data), acl: OPEN, flags: CreateMode.PERSISTENT });
const container = (path: string, data: string | null = null): Req => ({ op: 'createContainer', path, data: data === null ? null : Buffer.from(data), acl: OPEN, flags: CreateMode.CONTAINER });
const withTtl = (path: string, ttlMs: number, data: string | null = null): Req => ({ op: 'createTTL', path, data: data === null ? null : Buffer.from(data), acl: OPEN, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: BigInt(ttlMs) });
const del = (path: string): Req => ({ op: 'delete', path, version: -1 });


async function exists(c: ZkWireClient, path: string): Promise<boolean> {
  const r = await c.send({ op: 'exists', path, watch: false });
  if (r.header.err !== 0 && r.header.err !== NO_NODE) assert.fail(`exists ${path}: err ${r.header.err}`);
  return r.header.err === 0;
}

/** Polls (bounded) until none of `paths` exists on `c`. */
async function untilGone(c: ZkWireClient, paths: readonly string[], timeoutMs = 10_000): Promise<void> {
  let left: string[] = [...paths];
  await pollUntil(`${paths.join(', ')} reaped`, async () => {
    const still: string[] = [];
    for (const p of left) if (await exists(c, p)) still.push(p);
    left = still;
    return left.length === 0 ? true : undefined;
  }, timeoutMs, 100).catch((err: Error) => {
    throw new Error(`${err.message}; still there: ${left.join(', ')}`);
  });
}

function migrate(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const out = (r: { status: number | null; stdout: string; stderr: string }): string => `status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** Snapshot files in ZooKeeper's version-2 directory. */
function snapshots(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, 'version-2')).filter((f) => f.startsWith('snapshot.')).sort();
}

/** Every znode the copy writes (the root included; /zookeeper is never copied). */
const COPIED = ['/', '/app', '/app/lock', '/app/lock/held', '/app/drained', '/app/plain-drained', '/app/ttl-short', '/app/ttl-long',
  '/app/later', '/app/later/x', '/app/later-ttl', '/app/recreated'];
/** Reaped by Coracle right after a copy that knows their kinds. */
const REAPED_AT_ONCE = ['/app/drained', '/app/ttl-short', '/app/later-ttl'];
/** Containers with a child: reaped once the child goes. */
const HELD = ['/app/lock', '/app/later'];
/** The data written below; the copy's byte count is their sum. */
const DATA: Record<string, string> = { '/app': 'cfg', '/app/lock/held': 'me', '/app/ttl-long': 'lease', '/app/later/x': 'xx', '/app/recreated': 'plain' };
const BYTES = Object.values(DATA).reduce((n, s) => n + Buffer.byteLength(s), 0);

test('zk-migrate --from-data-dir keeps container and TTL znodes, and Coracle reaps them as ZooKeeper would', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  // TTL znodes need extended types; an hour's check interval keeps the source from reaping anything itself.
  const zk = await startZookeeper({ logLevel: 'warn', jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true', '-Dznode.container.checkIntervalMs=3600000'] });
  const cleanups: (() => Promise<unknown>)[] = [async () => zk.stop()];
  const connect = async (port: number): Promise<ZkWireClient> => {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
    cleanups.push(() => c.close());
    return c;
  };
  const coracleWith = async (args: readonly string[]): Promise<CoracleServer> => {
    const s = await startCoracle(args);
    cleanups.push(() => s.stop());
    return s;
  };
  try {
    // Batch 1: ends up in a snapshot.
    const b1 = await connect(zk.port);
    await ok(b1, persistent('/app', DATA['/app']!));
    await ok(b1, container('/app/lock'));
    await ok(b1, persistent('/app/lock/held', DATA['/app/lock/held']!));
    await ok(b1, container('/app/drained'));
    await ok(b1, persistent('/app/drained/gone'));
    await ok(b1, del('/app/drained/gone'));
    await ok(b1, persistent('/app/plain-drained'));
    await ok(b1, persistent('/app/plain-drained/gone'));
    await ok(b1, del('/app/plain-drained/gone'));
    await ok(b1, withTtl('/app/ttl-short', 1000));
    await ok(b1, withTtl('/app/ttl-long', 3_600_000, DATA['/app/ttl-long']!));
    await b1.close();

    // ZooKeeper 3.8 writes a snapshot of what it loaded each time it starts (snapshot.0 on the
    // first, empty start): after the restart one holds batch 1.
    await zk.restart();
    const snaps = snapshots(zk.dataDir);
    assert.ok(snaps.some((f) => f !== 'snapshot.0'), `a snapshot past the empty one after the restart: ${snaps.join(', ')}`);

    // Batch 2: only in the transaction log.
    const b2 = await connect(zk.port);
    await ok(b2, container('/app/later'));
    await ok(b2, persistent('/app/later/x', DATA['/app/later/x']!));
    await ok(b2, withTtl('/app/later-ttl', 1000));
    await ok(b2, { op: 'create', path: '/app/eph', data: Buffer.from('mine'), acl: OPEN, flags: CreateMode.EPHEMERAL });
    // A container deleted and re-created persistent at the same path: its czxid is the new one.
    await ok(b2, container('/app/recreated'));
    await ok(b2, del('/app/recreated'));
    await ok(b2, persistent('/app/recreated', DATA['/app/recreated']!));
    await ok(b2, persistent('/app/recreated/gone'));
    await ok(b2, del('/app/recreated/gone'));
    // Its session ends, and /app/eph with it.
    await b2.close();
    assert.deepEqual(snapshots(zk.dataDir), snaps, 'batch 2 is in no snapshot');
    assert.ok(fs.readdirSync(path.join(zk.dataDir, 'version-2')).some((f) => f.startsWith('log.')), 'a transaction log');

    // The source as clients see it, read before the copies.
    const src = await connect(zk.port);
    assert.equal(await exists(src, '/app/eph'), false, 'the ephemeral went with its session');
    const before = new Map<string, Record<string, unknown>>();
    for (const p of COPIED) before.set(p, (await znodeView(src, p))!);
    const srcApp = (await src.send({ op: 'getChildren2', path: '/app', watch: false })).body as { children: string[]; stat: Stat };

    const coracle = await coracleWith(['--zk-container-check-ms', String(CHECK_MS)]);
    const plain = await coracleWith(['--zk-container-check-ms', String(CHECK_MS)]);

    const kinds = migrate(['--from', `127.0.0.1:${zk.port}`, '--from-data-dir', zk.dataDir, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`]);
    assert.equal(kinds.status, 0, out(kinds));
    assert.match(kinds.stdout, new RegExp(`^copied ${COPIED.length} znodes \\(${BYTES} bytes of data\\); 0 already there, kept; 0 ephemerals not copied; 3 containers and 3 TTL znodes kept their kind\\n$`), out(kinds));

    // The same copy without the flag, into a second Coracle: everything arrives persistent.
    const noKinds = migrate(['--from', `127.0.0.1:${zk.port}`, '--endpoints', `http://127.0.0.1:${plain.clientPort}`]);
    const noKindsAt = performance.now();
    assert.equal(noKinds.status, 0, out(noKinds));
    assert.match(noKinds.stdout, new RegExp(`^copied ${COPIED.length} znodes \\(${BYTES} bytes of data\\); 0 already there, kept; 0 ephemerals not copied\\n$`), out(noKinds));

    // Right after the copy: every znode reads as on the source (Stat included: ephemeralOwner 0
    // for containers and TTL znodes, as ZooKeeper shows them). Those the reaper may already have
    // taken are either gone or equal.
    const dst = await connect(coracle.zkPort);
    const dstApp = (await dst.send({ op: 'getChildren2', path: '/app', watch: false })).body as { children: string[]; stat: Stat };
    for (const p of COPIED) {
      const got = await znodeView(dst, p);
      if (p === '/') {
        // The root's times are 0 on ZooKeeper and its children include /zookeeper: as zk-migrate.test.ts, data and versions.
        const [g, w] = [got!, before.get(p)!];
        assert.deepEqual([g.data, g.version, g.cversion], [w.data, w.version, w.cversion], 'the root');
      } else if (p === '/app') {
        // Each child already reaped has added one to its cversion.
        const reaped = REAPED_AT_ONCE.filter((c) => !dstApp.children.includes(path.basename(c))).length;
        assert.deepEqual({ ...dstApp.stat, czxid: 0n, mzxid: 0n, pzxid: 0n }, { ...srcApp.stat, czxid: 0n, mzxid: 0n, pzxid: 0n, cversion: srcApp.stat.cversion + reaped, numChildren: srcApp.stat.numChildren - reaped }, '/app');
        assert.deepEqual({ ...got, cversion: 0, numChildren: 0 }, { ...before.get(p), cversion: 0, numChildren: 0 }, p);
      } else if (REAPED_AT_ONCE.includes(p) && got === undefined) {
        continue;
      } else {
        assert.deepEqual(got, before.get(p), p);
      }
    }
    assert.equal(await exists(dst, '/app/eph'), false, 'the ephemeral is not copied');

    // The emptied container and the expired TTL znodes go; the held containers once emptied.
    await untilGone(dst, REAPED_AT_ONCE);
    await ok(dst, del('/app/lock/held'));
    await ok(dst, del('/app/later/x'));
    await untilGone(dst, HELD);
    await sleep(4 * CHECK_MS);
    for (const p of ['/app', '/app/plain-drained', '/app/ttl-long', '/app/recreated']) {
      assert.equal(await exists(dst, p), true, `${p} is not reaped`);
    }
    const left = (await dst.send({ op: 'getChildren', path: '/app', watch: false })).body as { children: string[] };
    assert.deepEqual([...left.children].sort(), ['plain-drained', 'recreated', 'ttl-long']);
    // The source still has them all: the reaping was Coracle's.
    for (const p of [...REAPED_AT_ONCE, ...HELD]) assert.equal(await exists(src, p), true, `${p} on the source`);

    // Without the flag they are plain znodes: two seconds (over six reaper rounds) later they stay.
    await sleep(Math.max(0, 2000 - (performance.now() - noKindsAt)));
    const dstPlain = await connect(plain.zkPort);
    for (const p of ['/app/drained', '/app/ttl-short', '/app/later-ttl']) {
      assert.equal(await exists(dstPlain, p), true, `${p} copied without --from-data-dir stays`);
    }

    // A data dir with nothing of ZooKeeper's in it.
    const empty = createTempDir('coracle-zk-empty-');
    try {
      const bad = migrate(['--from', `127.0.0.1:${zk.port}`, '--from-data-dir', empty, '--endpoints', `http://127.0.0.1:${plain.clientPort}`]);
      assert.equal(bad.status, 1, out(bad));
      assert.match(bad.stderr, /no ZooKeeper snapshot or transaction log/, out(bad));
    } finally {
      removeTempDir(empty);
    }
  } finally {
    // Clients first, then the servers, each even if another fails.
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
});
