/**
 * Switching ZooKeeper's clients over to Coracle after `coracle zk-migrate`. A client keeps the
 * last zxid it saw and a server whose zxids are lower refuses it ("client must try another
 * server"), which it retries for ever: the copy must leave Coracle's zxids past the source's.
 *
 * 1. Offline copy, a real client: kazoo works on an Apache ZooKeeper 3.8 through a TCP proxy;
 *    ZooKeeper stops, its files are copied into a fresh `coracle`, the proxy now leads to
 *    Coracle. kazoo, still running, must be told its session expired (LOST) and carry on with a
 *    new session that reads the copied data (the open session's ephemeral is not copied), its
 *    zxids now past the source's. Without the raise it is refused until the test gives up.
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
import { CreateMode, Stat } from '../../protocol/jute';
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

test('kazoo, moved over from a stopped ZooKeeper to its offline copy, goes on with a new session', { timeout: 180_000 }, async (t) => {
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
    const client = kazoo<{ before: string; session: string; states: string[]; data: string | null; lastError: string | null; after: string; newSession: string | null; eph: boolean | null }>(`127.0.0.1:${fwd.port}`, `
      import os, time
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
          eph = c.exists('/app/eph') is not None if data is not None else None
          result = {'before': hex(before), 'session': hex(session), 'states': list(states), 'data': data, 'lastError': last_error,
                    'after': hex(c.last_zxid), 'newSession': hex(c.client_id[0]) if c.client_id else None, 'eph': eph}
      finally:
          c.stop()
          c.close()
    `, { connect: false, args: { ready, go, writes: WRITES }, timeoutMs: 170_000 });
    client.catch(() => undefined);
    await pollUntil('kazoo worked on ZooKeeper', async () => (fs.existsSync(ready) ? true : undefined), 30_000);

    // ZooKeeper stops with kazoo's session open (its ephemeral stays in the files); nothing answers meanwhile.
    fwd.cut('refuse');
    await zk.process.stop();
    const coracle = await startCoracle();
    cleanups.unshift(() => coracle.stop());
    const copy = migrate(['--from-data-dir', zk.dataDir, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`]);
    assert.equal(copy.status, 0, out(copy));
    // A standalone ZooKeeper never elects: its zxids are in epoch 0, and Coracle's go to epoch 1.
    assert.match(copy.stderr, /zxids: Coracle's now start at 0x100000000 \(zxid base, was 0x0\), past the source's epoch \(the source's last zxid is 0x[0-9a-f]{1,8}\)/, out(copy));
    fwd.retarget(coracle.zkPort);
    fwd.heal();
    fs.writeFileSync(go, 'go');

    const r = await client;
    assert.equal(r.data, `v${WRITES + 1}`, `kazoo read the copy (last error ${r.lastError}; states ${r.states.join(',')})`);
    assert.ok(r.states.includes('LOST'), `told that its session expired: ${r.states.join(',')}`);
    assert.equal(r.states.at(-1), 'CONNECTED', `and connected again: ${r.states.join(',')}`);
    assert.notEqual(r.newSession, r.session, 'a new session');
    assert.equal(r.eph, false, "the old session's ephemeral was not copied");
    assert.ok(BigInt(r.after) > 0x100000000n && BigInt(r.before) < 0x100000000n, `zxids: ${r.before} on ZooKeeper, ${r.after} on Coracle`);
  } finally {
    // Ends kazoo's wait when the test failed before the switch.
    fs.writeFileSync(path.join(signals, 'go'), 'go');
    for (const c of cleanups) await c().catch(() => undefined);
  }
});

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
