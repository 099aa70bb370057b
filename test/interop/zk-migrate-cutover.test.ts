/**
 * Switching ZooKeeper's clients over to Coracle after `coracle zk-migrate`. A client keeps the
 * last zxid it saw and a server whose zxids are lower refuses it ("client must try another
 * server"), which it retries for ever: the copy must leave Coracle's zxids past the source's.
 *
 * 1. Offline copy, a real client: kazoo works on an Apache ZooKeeper 3.8 through a TCP proxy,
 *    holding an ephemeral and a Lock; ZooKeeper stops, its files are copied into a running
 *    `coracle`, the proxy now leads to Coracle. kazoo, still running, must carry on with its
 *    session (SUSPENDED, then CONNECTED, never LOST): same id, its ephemeral and its lock still
 *    there (another client cannot take the lock), its zxids now past the source's. Without the
 *    raise it is refused until the test gives up; without the carried session it is told LOST.
 *    A second session, whose client never comes back, is expired by Coracle after its timeout:
 *    its ephemeral goes and the parent's cversion moves, as on ZooKeeper.
 * 2. Live copy into a Coracle already in use: nothing is shifted unasked, stderr says why and
 *    what to do, and a client of the source is still refused (after a dry run too); with
 *    --raise-zxid the zxids move past the source's (a znode already there reports its czxid
 *    moved with them) and the same client is told its session expired.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CreateMode, EventType, Stat, WatcherEvent } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { requirePeer } from '../support/peers';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { kazoo } from '../support/kazoo';
import { TcpProxy } from '../support/tcp-proxy';
import { pollUntil } from '../support/poll';
import { createTempDir, removeTempDir } from '../support/temp-dir';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/**
 * Writes to the source before the copy. A standalone ZooKeeper's zxids stay in epoch 0 (no
 * election), so its clients are ahead of the copy only once it has logged more txns than the
 * copy takes (an ensemble's epoch puts every zxid past any revision at once).
 */
const WRITES = 300;

type Run = { status: number | null; stdout: string; stderr: string };

function migrate(args: readonly string[]): Run {
  const r = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const out = (r: Run): string => `status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

test('kazoo, moved over from a stopped ZooKeeper to its offline copy, goes on with its session, ephemeral and lock', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('zookeeper') ?? requirePeer('kazoo');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const signals = createTempDir('zk-cutover-');
  const cleanups: (() => Promise<unknown>)[] = [async () => zk.stop(), async () => removeTempDir(signals)];
  try {
    // kazoo reaches ZooKeeper through a proxy that is later switched to Coracle.
    const fwd = await TcpProxy.start({ targetPort: zk.port });
    cleanups.unshift(() => fwd.close());
    const ready = path.join(signals, 'ready');
    const go = path.join(signals, 'go');
    // Its own client: the connection retry capped at 0.5 s, so the switch-over is not waited
    // out by kazoo's backoff (60 s at most by default).
    type Result = {
      before: string; session: string; states: string[]; data: string | null; lastError: string | null; after: string; newSession: string | null;
      ephOwner: string | null; lockHeld: boolean | null; lockNodeOwner: string | null; othersGotLock: boolean | null;
    };
    const client = kazoo<Result>(`127.0.0.1:${fwd.port}`, `
      import os, time
      from kazoo.exceptions import LockTimeout
      c = KazooClient(hosts=hosts, timeout=10, connection_retry={'max_tries': -1, 'delay': 0.1, 'max_delay': 0.5})
      states = []
      c.add_listener(lambda s: states.append(str(s)))
      c.start(timeout=10)
      try:
          c.create('/app', b'cfg')
          c.create('/app/x', b'v1')
          # More txns than the copy takes in Coracle, as any ZooKeeper that served a while has:
          # without the raise, kazoo's last zxid would be ahead of Coracle's.
          for i in range(args['writes']):
              c.set('/app/x', b'v%d' % (i + 2))
          c.create('/app/eph', b'mine', ephemeral=True)
          lock = c.Lock('/app/lock', 'me')
          assert lock.acquire(timeout=10)
          before = c.last_zxid
          session = c.client_id[0]
          with open(args['ready'], 'w') as f:
              f.write('ready')
          deadline = time.time() + 120
          while not os.path.exists(args['go']) and time.time() < deadline:
              time.sleep(0.05)
          data = None
          last_error = None
          deadline = time.time() + 30
          while data is None and time.time() < deadline:
              try:
                  data = c.get_async('/app/x').get(timeout=2)[0].decode()
              except Exception as e:
                  last_error = type(e).__name__
                  time.sleep(0.2)
          eph_owner = lock_node_owner = others_got_lock = None
          if data is not None:
              st = c.exists('/app/eph')
              eph_owner = hex(st.owner_session_id) if st else None
              st = c.exists(lock.path + '/' + lock.node) if lock.node else None
              lock_node_owner = hex(st.owner_session_id) if st else None
              other = KazooClient(hosts=hosts, timeout=10)
              other.start(timeout=10)
              try:
                  others_got_lock = other.Lock('/app/lock', 'other').acquire(timeout=1)
              except LockTimeout:
                  others_got_lock = False
              finally:
                  other.stop()
                  other.close()
          result = {'before': hex(before), 'session': hex(session), 'states': list(states), 'data': data, 'lastError': last_error,
                    'after': hex(c.last_zxid), 'newSession': hex(c.client_id[0]) if c.client_id else None,
                    'ephOwner': eph_owner, 'lockHeld': lock.is_acquired, 'lockNodeOwner': lock_node_owner, 'othersGotLock': others_got_lock}
      finally:
          c.stop()
          c.close()
    `, { connect: false, args: { ready, go, writes: WRITES }, timeoutMs: 170_000 });
    client.catch(() => undefined);
    await pollUntil('kazoo worked on ZooKeeper', async () => (fs.existsSync(ready) ? true : undefined), 30_000);
    // A session whose client goes away with ZooKeeper, holding an ephemeral: 4 s, ZooKeeper's least.
    const gone = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 4000 });
    cleanups.unshift(() => gone.close());
    // Under a parent of its own: nothing else changes its children.
    assert.equal((await gone.send({ op: 'create', path: '/held', data: null, acl: OPEN, flags: CreateMode.PERSISTENT })).header.err, 0);
    assert.equal((await gone.send({ op: 'create', path: '/held/gone', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL })).header.err, 0);

    // ZooKeeper stops with both sessions open (their ephemerals stay in the files); nothing answers meanwhile.
    fwd.cut('refuse');
    await zk.process.stop();
    gone.drop();
    // Coracle runs before the copy: its front end must adopt the carried sessions as they arrive.
    const coracle = await startCoracle();
    cleanups.unshift(() => coracle.stop());
    const copy = migrate(['--from-data-dir', zk.dataDir, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`]);
    assert.equal(copy.status, 0, out(copy));
    assert.match(copy.stdout, /; 2 sessions carried over with 3 ephemerals\n$/, out(copy));
    assert.match(copy.stderr, /sessions: 2 carried over, their timeouts 4–10 s: switch their clients to Coracle now/, out(copy));
    // A standalone ZooKeeper never elects: its zxids are in epoch 0, and Coracle's go to epoch 1.
    assert.match(copy.stderr, /zxids: Coracle's now start at 0x100000000 \(zxid base, was 0x0\), past the source's epoch \(the source's last zxid is 0x[0-9a-f]{1,8}\)/, out(copy));
    fwd.retarget(coracle.zkPort);
    fwd.heal();
    fs.writeFileSync(go, 'go');
    const held = await goneExpires(coracle.zkPort, gone.session.sessionId);

    const r = await client;
    assert.equal(r.data, `v${WRITES + 1}`, `kazoo read the copy (last error ${r.lastError}; states ${r.states.join(',')})`);
    assert.deepEqual(r.states, ['CONNECTED', 'SUSPENDED', 'CONNECTED'], 'kazoo lost the connection, never the session');
    assert.equal(r.newSession, r.session, 'the same session');
    assert.equal(r.ephOwner, r.session, 'its ephemeral is there, owned by it');
    assert.equal(r.lockHeld, true, 'kazoo still holds its lock');
    assert.equal(r.lockNodeOwner, r.session, 'and its lock node is there');
    assert.equal(r.othersGotLock, false, 'another client cannot take the lock');
    assert.ok(BigInt(r.after) > 0x100000000n && BigInt(r.before) < 0x100000000n, `zxids: ${r.before} on ZooKeeper, ${r.after} on Coracle`);
    // The store's own lease expiry (were the session not adopted) would delete it too, but leave the parent alone.
    assert.equal(held.after.cversion, held.before.cversion + 1, "the parent's cversion moved with the expiry");
    assert.ok(held.after.pzxid > held.before.pzxid, 'and its pzxid');
  } finally {
    // Ends kazoo's wait when the test failed before the switch.
    fs.writeFileSync(path.join(signals, 'go'), 'go');
    for (const c of cleanups) await c().catch(() => undefined);
  }
});

/**
 * Watches, on Coracle, the ephemeral of the session that never comes back: it must be deleted
 * once the session's 4 s run out (well within 30 s). Resolves with its parent's Stat before and after.
 */
async function goneExpires(port: number, session: bigint): Promise<{ before: Stat; after: Stat }> {
  const events: WatcherEvent[] = [];
  const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000, onNotification: (e) => events.push(e) });
  try {
    const eph = await c.send({ op: 'exists', path: '/held/gone', watch: true });
    assert.equal((eph.body as { stat: Stat } | undefined)?.stat.ephemeralOwner, session, "the dropped session's ephemeral was copied");
    const before = ((await c.send({ op: 'exists', path: '/held', watch: false })).body as { stat: Stat }).stat;
    const deleted = await pollUntil('the dropped session expired on Coracle', async () => events.find((e) => e.path === '/held/gone'), 30_000);
    assert.equal(deleted.type, EventType.NodeDeleted);
    const after = ((await c.send({ op: 'exists', path: '/held', watch: false })).body as { stat: Stat }).stat;
    return { before, after };
  } finally {
    await c.close();
  }
}

test('a live copy into a Coracle in use leaves its zxids alone unless --raise-zxid', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const clients: ZkWireClient[] = [];
  const cleanups: (() => Promise<unknown>)[] = [async () => zk.stop()];
  const connect = async (port: number, o: { sessionId?: bigint; passwd?: Buffer; lastZxidSeen?: bigint } = {}): Promise<ZkWireClient> => {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000, ...o });
    clients.push(c);
    return c;
  };
  try {
    const src = await connect(zk.port);
    for (const p of ['/svc', '/svc/a']) {
      assert.equal((await src.send({ op: 'create', path: p, data: Buffer.from(p), acl: OPEN, flags: CreateMode.PERSISTENT })).header.err, 0);
    }
    for (let i = 0; i < WRITES; i++) assert.equal((await src.send({ op: 'setData', path: '/svc/a', data: Buffer.from(`v${i}`), version: -1 })).header.err, 0);
    const seen = (await src.send({ op: 'sync', path: '/' })).header.zxid;
    assert.ok(seen > 0n && seen < 1n << 32n, `a standalone ZooKeeper's zxids are in epoch 0: 0x${seen.toString(16)}`);

    const coracle = await startCoracle();
    cleanups.unshift(() => coracle.stop());
    const local = await connect(coracle.zkPort);
    const mine = await local.send({ op: 'create2', path: '/local', data: null, acl: OPEN, flags: CreateMode.PERSISTENT });
    const czxid = (mine.body as { stat: Stat }).stat.czxid;
    const endpoints = ['--endpoints', `http://127.0.0.1:${coracle.clientPort}`];

    const held = migrate(['--from', zk.connectString, ...endpoints]);
    assert.equal(held.status, 0, out(held));
    assert.match(held.stderr, /warning: Coracle's zxids \(zxid base 0x0\) are below the source's .* Run again with --raise-zxid to set the zxid base to 0x100000000/, out(held));
    // The source's client, moving over with its session: refused, as ZooKeeper refuses it.
    const moving = { sessionId: src.session.sessionId, passwd: src.session.passwd, lastZxidSeen: seen };
    await assert.rejects(connect(coracle.zkPort, moving), /closed during handshake/);
    const kept = await local.send({ op: 'exists', path: '/local', watch: false });
    assert.equal((kept.body as { stat: Stat }).stat.czxid, czxid, 'nothing shifted');

    const dry = migrate(['--from', zk.connectString, '--raise-zxid', '--dry-run', ...endpoints]);
    assert.equal(dry.status, 0, out(dry));
    assert.match(dry.stderr, /zxids: Coracle's would start at 0x100000000 \(zxid base, was 0x0\)/, out(dry));
    await assert.rejects(connect(coracle.zkPort, moving), /closed during handshake/, 'a dry run raises nothing');

    const raised = migrate(['--from', zk.connectString, '--raise-zxid', ...endpoints]);
    assert.equal(raised.status, 0, out(raised));
    assert.match(raised.stdout, /^copied 0 znodes .* 3 already there, kept/, out(raised));
    assert.match(raised.stderr, /zxids: Coracle's now start at 0x100000000 \(zxid base, was 0x0\)/, out(raised));
    const told = await connect(coracle.zkPort, moving);
    assert.equal(told.session.timeOut, 0, 'told that its session expired');
    const shifted = await local.send({ op: 'exists', path: '/local', watch: false });
    assert.equal((shifted.body as { stat: Stat }).stat.czxid, czxid + 0x100000000n, "the znode already there moved with the base");
    const srvr = await fourLetterWord('127.0.0.1', coracle.zkPort, 'srvr');
    assert.match(srvr, /Zxid: 0x1[0-9a-f]{8}\n/, srvr);

    const again = migrate(['--from', zk.connectString, ...endpoints]);
    assert.equal(again.status, 0, out(again));
    assert.match(again.stderr, /zxids: Coracle's are past the source's \(zxid base 0x100000000; /, out(again));
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const c of cleanups) await c().catch(() => undefined);
  }
});
