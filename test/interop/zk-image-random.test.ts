/**
 * The tree `zk-migrate --from-data-dir` rebuilds from a ZooKeeper's files
 * (zkproxy/migrate/zk-image-loader.ts) against the real thing: a seeded random workload on a
 * real ZooKeeper 3.8 (creates of every mode and kind, create2, setData and setACL with and
 * without versions, deletes, multis that succeed and fail, sessions closing and reconnecting,
 * a restart half way). Twice: with `zookeeper.snapCount` small, so that snapshots are taken while
 * txns run (fuzzy, as in production) and the last one is replayed over; and with the default, so
 * that half the workload is replayed from the log after the snapshot of the restart. Then every znode a client reads from that ZooKeeper must equal
 * the rebuilt tree's: every Stat field (zxids and times included), data, ACL and children, and
 * the tree must hold nothing more. Then `coracle zk-migrate --from-data-dir` copies the files into
 * a `coracle`, which must serve every znode as ZooKeeper does (zxids aside) and give the next
 * sequential name ZooKeeper gives: the first time carrying the open sessions over (their
 * ephemerals copied, each with its session as ephemeralOwner), the second with --skip-sessions
 * (the ephemerals left out, their parents as ZooKeeper reports them once their sessions end).
 * `CORACLE_ZK_IMAGE_SEED` picks another workload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { znodeView } from '../support/znode-view';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { Acl, CreateMode, ZkErr, type ZkRequest } from '../../protocol/jute';
import { loadZkImage } from '../../zkproxy/migrate/zk-image-loader';
import type { ZkImage } from '../../zkproxy/migrate/zk-image';

const SEED = Number(process.env.CORACLE_ZK_IMAGE_SEED ?? 34);
const STEPS = 700;
const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ_AND_IP: Acl[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }, { perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }];
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
const MODES = [CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL];

/** A small seeded generator (the same workload for the same seed). */
function generator(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

/** Draws requests over the paths created so far. */
function workload(rnd: (n: number) => number, paths: string[]): () => ZkRequest {
  // The root now and then on purpose: txns name it "/", the snapshot "".
  const pick = (): string => (rnd(8) === 0 ? '/' : paths[rnd(paths.length)]!);
  const child = (): string => `${pick() === '/' ? '' : pick()}/${NAMES[rnd(NAMES.length)]!}`;
  const data = (): Buffer | null => (rnd(5) === 0 ? null : Buffer.from('x'.repeat(rnd(20))));
  const single = (): ZkRequest => {
    switch (rnd(10)) {
      case 0: case 1: case 2: return { op: 'create', path: child(), data: data(), acl: rnd(6) ? OPEN : READ_AND_IP, flags: MODES[rnd(MODES.length)]! };
      case 3: return { op: 'create2', path: child(), data: data(), acl: OPEN, flags: CreateMode.PERSISTENT };
      case 4: return { op: 'createContainer', path: child(), data: data(), acl: OPEN, flags: CreateMode.CONTAINER };
      case 5: return { op: 'createTTL', path: child(), data: data(), acl: OPEN, flags: rnd(2) ? CreateMode.PERSISTENT_WITH_TTL : CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 3_600_000n };
      case 6: case 7: return { op: 'setData', path: pick(), data: data(), version: rnd(3) ? -1 : rnd(3) };
      case 8: return { op: 'setACL', path: pick(), acl: rnd(2) ? OPEN : READ_AND_IP, version: rnd(3) ? -1 : rnd(2) };
      default: return { op: 'delete', path: pick(), version: rnd(3) ? -1 : rnd(2) };
    }
  };
  return () => {
    if (rnd(8) !== 0) return single();
    // A multi of writes (setACL cannot be in one; create2 goes in as create), sometimes with a check.
    const ops = [single(), single(), single()].filter((o) => o.op !== 'setACL').map((o) => (o.op === 'create2' ? { ...o, op: 'create' as const } : o));
    if (rnd(3) === 0) ops.push({ op: 'check', path: pick(), version: rnd(2) });
    return { op: 'multi', ops } as ZkRequest;
  };
}

/** The paths a successful reply created (a create's, or a multi's creates'). */
function createdPaths(reply: { body?: unknown }): string[] {
  const body = reply.body as { path?: string; results?: { path?: string }[] } | undefined;
  return [body?.path, ...(body?.results ?? []).map((r) => r.path)].filter((p): p is string => typeof p === 'string');
}

/** Walks the live tree from `path`, comparing each znode with the image's; resolves with the count. */
async function compare(c: ZkWireClient, image: ZkImage, path: string): Promise<number> {
  const d = await c.send({ op: 'getData', path, watch: false });
  const a = await c.send({ op: 'getACL', path });
  const ch = await c.send({ op: 'getChildren', path, watch: false });
  for (const r of [d, a, ch]) assert.equal(r.header.err, ZkErr.OK, `read ${path}`);
  const mine = image.read(path);
  assert.ok(mine, `${path} is in the rebuilt tree`);
  const live = { stat: (d.body as { stat: unknown }).stat, data: (d.body as { data: Buffer | null }).data, acl: (a.body as { acl: Acl[] }).acl };
  assert.deepEqual({ stat: mine.stat, data: mine.data, acl: mine.acl }, live, path);
  const children = (ch.body as { children: string[] }).children;
  assert.deepEqual([...mine.children].sort(), [...children].sort(), `${path}: children`);
  let n = 1;
  for (const k of children) n += await compare(c, image, path === '/' ? `/${k}` : `${path}/${k}`);
  return n;
}

for (const [snapCount, carry] of [[40, true], [undefined, false]] as const) {
  const what = snapCount ? `snapshots every ~${snapCount} txns` : 'a snapshot at the restart only';
  const copy = carry ? 'sessions carried over' : 'sessions left behind';
  test(`the tree rebuilt from a real ZooKeeper's files equals what it serves (${what}; ${copy}; seed ${SEED})`, { timeout: 240_000 }, async (t) => {
    const skip = requirePeer('zookeeper');
    if (skip) return t.skip(skip);
    await checkAgainstZooKeeper(t, snapCount, carry);
  });
}

async function checkAgainstZooKeeper(t: { diagnostic(msg: string): void }, snapCount: number | undefined, carry: boolean): Promise<void> {
  // Small: snapshots taken by ZooKeeper's snapshot thread while later txns apply.
  const jvmArgs = ['-Dzookeeper.extendedTypesEnabled=true', '-Dznode.container.checkIntervalMs=3600000', ...(snapCount ? [`-Dzookeeper.snapCount=${snapCount}`] : [])];
  const zk = await startZookeeper({ logLevel: 'error', jvmArgs });
  const clients: ZkWireClient[] = [];
  const connect = async (): Promise<ZkWireClient> => {
    // Long sessions: the dropped ones must not expire on either side while the trees are compared.
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 30_000 });
    clients.push(c);
    return c;
  };
  try {
    const rnd = generator(SEED);
    const paths = ['/'];
    const next = workload(rnd, paths);
    let sessions = [await connect(), await connect(), await connect()];
    let applied = 0;
    for (let i = 0; i < STEPS; i++) {
      if (i === STEPS / 2) {
        // A restart: the sessions are dropped, not closed (they expire later, or not at all).
        for (const s of sessions) s.drop();
        await zk.restart();
        sessions = [await connect(), await connect(), await connect()];
      }
      const k = rnd(sessions.length);
      if (rnd(40) === 0) {
        // A session ends: its ephemerals go in a closeSession txn.
        await sessions[k]!.close();
        sessions[k] = await connect();
        continue;
      }
      const r = await sessions[k]!.send(next());
      if (r.header.err !== ZkErr.OK) continue;
      applied++;
      for (const p of createdPaths(r)) if (!paths.includes(p)) paths.push(p);
    }
    assert.ok(applied > STEPS / 2, `most steps changed the tree (${applied})`);
    const { image, report } = loadZkImage(zk.dataDir);
    assert.deepEqual([report.gaps, report.unreadable, report.warnings], [[], 0, []], 'the files read whole');
    assert.ok(report.snapshot, 'a snapshot was used');
    const reader = await connect();
    const znodes = await compare(reader, image, '/');
    assert.equal(image.size, znodes, 'the rebuilt tree holds nothing more');
    t.diagnostic(`${applied} writes, ${znodes} znodes equal; ${report.snapshot} + ${report.logs} logs, ${report.txns} txns replayed`);
    await checkCopy(reader, zk.dataDir, paths, carry);
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await zk.stop();
  }
}

/**
 * The znodes a copy writes (nothing under /zookeeper; ephemerals only with their sessions), and
 * each parent's ephemeral children.
 */
async function copiedView(c: ZkWireClient, path: string, out: Map<string, Record<string, unknown>>, carry: boolean): Promise<void> {
  const v = (await znodeView(c, path, true))!;
  const children = v.children as string[];
  const ephemeral: string[] = [];
  for (const k of children) {
    const child = path === '/' ? `/${k}` : `${path}/${k}`;
    if (child === '/zookeeper') continue;
    const cv = await znodeView(c, child, true);
    if (cv && cv.ephemeralOwner !== 0n && !carry) ephemeral.push(k);
    else if (cv && cv.ephemeralOwner !== 0n) out.set(child, cv);
    else if (cv) await copiedView(c, child, out, carry);
  }
  // As ZooKeeper reports the parent once those sessions end: one change per delete.
  out.set(path, ephemeral.length === 0 ? v : { ...v, cversion: (v.cversion as number) + ephemeral.length, numChildren: (v.numChildren as number) - ephemeral.length, children: children.filter((k) => !ephemeral.includes(k)) });
}

/** Copies ZooKeeper's files into a fresh `coracle` and compares what both serve. */
async function checkCopy(src: ZkWireClient, dataDir: string, paths: readonly string[], carry: boolean): Promise<void> {
  const want = new Map<string, Record<string, unknown>>();
  await copiedView(src, '/', want, carry);
  const ephemerals = [...want.values()].filter((v) => v.ephemeralOwner !== 0n);
  const sessions = new Set(ephemerals.map((v) => v.ephemeralOwner));
  const coracle = await startCoracle(['--zk-container-check-ms', '3600000']);
  let dst: ZkWireClient | undefined;
  try {
    const flags = carry ? [] : ['--skip-sessions'];
    const r = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from-data-dir', dataDir, ...flags, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `zk-migrate: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^copied ${want.size} znodes `), r.stdout);
    if (carry) {
      assert.ok(ephemerals.length > 0, 'the workload left ephemerals of open sessions');
      // Every open session is carried (some may own no ephemeral), each ephemeral with its own.
      const m = /; (\d+) sessions carried over with (\d+) ephemerals\n$/.exec(r.stdout);
      assert.ok(m && Number(m[1]) >= sessions.size && Number(m[2]) === ephemerals.length, r.stdout);
    } else assert.doesNotMatch(r.stdout, /sessions carried/, r.stdout);
    dst = await ZkWireClient.connect({ host: '127.0.0.1', port: coracle.zkPort, timeoutMs: 10_000 });
    const got = new Map<string, Record<string, unknown>>();
    await copiedView(dst, '/', got, carry);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'the copied paths');
    for (const [p, w] of want) {
      const g = got.get(p)!;
      // The root's times are 0 on ZooKeeper and its /zookeeper child is the store's own: data and versions.
      if (p === '/') assert.deepEqual([g.data, g.version, g.cversion, g.aversion], [w.data, w.version, w.cversion, w.aversion], '/');
      else assert.deepEqual(g, w, p);
    }
    // The next sequential name under a copied parent is the one ZooKeeper gives.
    const parent = paths.find((p) => p !== '/' && want.has(p) && (want.get(p)!.ephemeralOwner === 0n)) ?? '/';
    const seq = async (c: ZkWireClient): Promise<string> => {
      const res = await c.send({ op: 'create', path: `${parent === '/' ? '' : parent}/s-`, data: null, acl: OPEN, flags: CreateMode.PERSISTENT_SEQUENTIAL });
      assert.equal(res.header.err, ZkErr.OK, `sequential create under ${parent}`);
      return (res.body as { path: string }).path;
    };
    assert.equal(await seq(dst), await seq(src), `the next sequential name under ${parent}`);
  } finally {
    await dst?.close().catch(() => undefined);
    await coracle.stop();
  }
}
