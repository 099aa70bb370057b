/**
 * Sessions (zk-protocol.md §1.3, §2.1; DESIGN §5): handshakes with and without the readOnly
 * byte, timeout negotiation, resume by id and password on the same or ANOTHER proxy of the same
 * store, refusal of a bad password and of a client whose lastZxidSeen is ahead, expiry driven
 * by client traffic removing the session's ephemerals in one revision and firing watches, and
 * watches crossing proxies through the change feed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { CreateMode, EventType, FrameDecoder, JuteWriter, OpCode, WatcherEvent, encodeRequest, writeConnectRequest, writeRequestHeader } from '../../protocol/jute';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

test('sessions across two proxies of one store', { timeout: 60_000 }, async (t) => {
  const backend = new MemoryBackend();
  const a = await startHarness({ backend });
  const b = await startHarness({ backend });
  try {
    await t.test('handshake with and without the readOnly byte; timeouts clamped to [2, 20] ticks', async () => {
      const c1 = await ZkWireClient.connect({ host: a.host, port: a.port, timeoutMs: 1000, readOnly: false });
      assert.equal(c1.session.readOnly, undefined, 'no readOnly byte echoed to a client that sent none');
      assert.equal(c1.session.timeOut, 4000);
      const c2 = await ZkWireClient.connect({ host: a.host, port: a.port, timeoutMs: 100_000 });
      assert.equal(c2.session.readOnly, false);
      assert.equal(c2.session.timeOut, 40_000);
      assert.equal(c2.session.passwd.length, 16);
      await c1.close();
      await c2.close();
    });

    await t.test('resume on another proxy keeps ephemerals; a wrong password is an expired session', async () => {
      const c = await ZkWireClient.connect({ host: a.host, port: a.port, timeoutMs: 10_000 });
      const { sessionId, passwd } = c.session;
      await c.send({ op: 'create', path: '/eph', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
      c.drop();
      const bad = await ZkWireClient.connect({ host: b.host, port: b.port, sessionId, passwd: Buffer.alloc(16, 1) });
      assert.equal(bad.session.timeOut, 0);
      assert.equal(bad.session.sessionId, 0n);
      assert.ok(await bad.waitClosed(2000));
      const r = await ZkWireClient.connect({ host: b.host, port: b.port, sessionId, passwd, timeoutMs: 40_000 });
      assert.equal(r.session.sessionId, sessionId);
      assert.ok(r.session.timeOut >= 10_000 && r.session.timeOut < 40_000, 'a longer timeout than the session lease covers is negotiated down');
      const st = await r.send({ op: 'exists', path: '/eph', watch: false });
      assert.equal(st.header.err, 0);
      assert.equal(st.body?.op === 'stat' && st.body.stat.ephemeralOwner, sessionId);
      await r.close();
      const after = await ZkWireClient.connect({ host: a.host, port: a.port });
      assert.ok(await until(() => !a.proxy.services.tree.has('/eph'), 2000));
      const gone = await after.send({ op: 'exists', path: '/eph', watch: false });
      assert.equal(gone.header.err, -101);
      const expired = await ZkWireClient.connect({ host: a.host, port: a.port, sessionId, passwd });
      assert.equal(expired.session.timeOut, 0, 'a closed session cannot be resumed');
      await after.close();
    });

    await t.test('requests pipelined behind the ConnectRequest are answered after it, in order', async () => {
      // What the Java client does on reconnect: ConnectRequest, auth (-4), SetWatches (-8) and
      // queued requests in one burst, before reading the ConnectResponse.
      const frames: Buffer[] = [];
      const w = (fn: (x: JuteWriter) => void): void => {
        const x = new JuteWriter().startFrame();
        fn(x);
        frames.push(x.endFrame().toBuffer());
      };
      w((x) => writeConnectRequest(x, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false }));
      w((x) => { writeRequestHeader(x, { xid: -4, type: OpCode.auth }); encodeRequest(x, { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('p:q') }); });
      w((x) => { writeRequestHeader(x, { xid: -8, type: OpCode.setWatches }); encodeRequest(x, { op: 'setWatches', relativeZxid: 0n, dataWatches: ['/zookeeper'], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] }); });
      w((x) => { writeRequestHeader(x, { xid: 1, type: OpCode.exists }); encodeRequest(x, { op: 'exists', path: '/', watch: false }); });
      const sock = connect({ host: a.host, port: a.port });
      const got: Buffer[] = [];
      const dec = new FrameDecoder(1 << 20);
      await new Promise<void>((resolve, reject) => {
        sock.on('connect', () => sock.write(Buffer.concat(frames)));
        sock.on('data', (d: Buffer) => {
          dec.push(d);
          for (let f = dec.next(); f; f = dec.next()) got.push(f);
          if (got.length >= 4) resolve();
        });
        sock.on('error', reject);
        setTimeout(() => reject(new Error(`only ${got.length} frames`)), 5000);
      });
      sock.destroy();
      assert.equal(got[0]!.length, 37, 'ConnectResponse first');
      assert.deepEqual(got.slice(1).map((f) => f.readInt32BE(0)), [-4, -8, 1], 'then the replies in request order');
    });

    await t.test('a client whose lastZxidSeen is ahead is refused without a reply', async () => {
      await assert.rejects(ZkWireClient.connect({ host: a.host, port: a.port, lastZxidSeen: 1n << 40n }), /closed during handshake/);
    });

    await t.test('expiry (no traffic) removes ephemerals in one revision and fires watches on the other proxy', async () => {
      const events: WatcherEvent[] = [];
      const w = await ZkWireClient.connect({ host: b.host, port: b.port, onNotification: (e) => events.push(e) });
      await w.send({ op: 'create', path: '/p1', data: null, acl: OPEN, flags: 0 });
      await w.send({ op: 'create', path: '/p2', data: null, acl: OPEN, flags: 0 });
      const s = await ZkWireClient.connect({ host: a.host, port: a.port, timeoutMs: 4000, ping: false });
      await s.send({ op: 'create', path: '/p1/e', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
      await s.send({ op: 'create', path: '/p2/e', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
      await w.send({ op: 'exists', path: '/p1/e', watch: true });
      await w.send({ op: 'getChildren', path: '/p2', watch: true });
      const started = Date.now();
      // The connection stays open but silent: expiry is driven by traffic, not by TCP.
      assert.ok(await until(() => events.length >= 2, 10_000), `events: ${JSON.stringify(events)}`);
      const took = Date.now() - started;
      assert.ok(took >= 3500 && took < 9000, `expired after ${took} ms`);
      assert.deepEqual(events.map((e) => `${e.type} ${e.path}`).sort(), [`${EventType.NodeDeleted} /p1/e`, `${EventType.NodeChildrenChanged} /p2`]);
      const s1 = await w.send({ op: 'exists', path: '/p1', watch: false });
      const s2 = await w.send({ op: 'exists', path: '/p2', watch: false });
      const p1 = s1.body?.op === 'stat' ? s1.body.stat : undefined;
      const p2 = s2.body?.op === 'stat' ? s2.body.stat : undefined;
      assert.equal(p1?.pzxid, p2?.pzxid, 'both parents changed in the same revision');
      assert.equal(p1?.cversion, 2);
      assert.ok(await s.waitClosed(3000), 'the expired session’s connection is closed');
      await w.close();
    });

    await t.test('a session with more ephemerals than one store txn holds still cleans up exactly', async () => {
      const c = await ZkWireClient.connect({ host: a.host, port: a.port });
      const w = await ZkWireClient.connect({ host: b.host, port: b.port });
      await w.send({ op: 'create', path: '/many', data: null, acl: OPEN, flags: 0 });
      await w.send({ op: 'create', path: '/many2', data: null, acl: OPEN, flags: 0 });
      for (let i = 0; i < 60; i++) {
        await c.send({ op: 'create', path: `/many${i % 2 ? '2' : ''}/e${i}`, data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
      }
      await c.close();
      await w.send({ op: 'sync', path: '/' });
      for (const p of ['/many', '/many2']) {
        const r = await w.send({ op: 'getChildren2', path: p, watch: false });
        assert.ok(r.body?.op === 'getChildren2');
        if (r.body?.op !== 'getChildren2') return;
        assert.deepEqual(r.body.children, [], `${p} emptied`);
        assert.equal(r.body.stat.cversion, 60, `${p}: 30 creates + 30 deletes`);
        assert.ok(r.body.stat.pzxid > r.body.stat.czxid);
      }
      await w.close();
    });

    await t.test('a restarted proxy expires the sessions of clients that never came back', async () => {
      const c = await ZkWireClient.connect({ host: b.host, port: b.port, timeoutMs: 4000, ping: false });
      await c.send({ op: 'create', path: '/orphan-parent', data: null, acl: OPEN, flags: 0 });
      await c.send({ op: 'create', path: '/orphan-parent/e', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
      c.drop();
      await b.stop();
      const b2 = await startHarness({ backend });
      try {
        const w = await ZkWireClient.connect({ host: b2.host, port: b2.port });
        const before = await w.send({ op: 'exists', path: '/orphan-parent', watch: false });
        assert.ok(await until(() => !b2.proxy.services.tree.has('/orphan-parent/e'), 12_000), 'expired by the new proxy');
        const after = await w.send({ op: 'exists', path: '/orphan-parent', watch: false });
        const p0 = before.body?.op === 'stat' ? before.body.stat : undefined;
        const p1 = after.body?.op === 'stat' ? after.body.stat : undefined;
        assert.ok(p0 && p1 && p1.pzxid > p0.pzxid, 'the parent’s pzxid moved with the deletion');
        assert.equal(p1?.cversion, 2);
        await w.close();
      } finally {
        await b2.stop();
      }
    });
  } finally {
    await a.stop();
    await b.stop().catch(() => undefined);
    await backend.close();
  }
});
