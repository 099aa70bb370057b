/**
 * A proxy process is killed with SIGKILL under a connected client (DESIGN §8 fault tests;
 * zk-protocol.md §2.1 "the client reconnects to another server"): the client resumes its
 * session on the other proxy of the same etcd cluster by id and password, its ephemeral node
 * survives, SetWatches restores its watch (computed from current state, so the change made
 * while it was disconnected fires at once), and closing the session removes the ephemeral.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { CreateMode, WatcherEvent } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startEtcd } from '../support/etcd-peer';
import { requirePeer } from '../support/peers';
import { freePorts } from '../support/ports';
import { ManagedProcess, startProcess } from '../support/process';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const HARNESS = path.resolve(__dirname, '../interop/zk-harness.js');

async function proxy(port: number, endpoints: string[], name: string): Promise<ManagedProcess> {
  const p = startProcess(process.execPath, [HARNESS, String(port), endpoints.join(',')], { name });
  await p.waitForLine(/zkproxy on/, 30_000);
  return p;
}

test('a session survives the SIGKILL of its proxy', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const [p1, p2] = await freePorts(2);
  const a = await proxy(p1!, etcd.endpoints, 'zkproxy-a');
  const b = await proxy(p2!, etcd.endpoints, 'zkproxy-b');
  const events: WatcherEvent[] = [];
  let other: ZkWireClient | undefined;
  try {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port: p1!, timeoutMs: 10_000 });
    const { sessionId, passwd } = c.session;
    await c.send({ op: 'create', path: '/k', data: null, acl: OPEN, flags: 0 });
    await c.send({ op: 'create', path: '/k/eph', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
    const seen = await c.send({ op: 'getData', path: '/k', watch: true });
    const zxid = seen.header.zxid;
    a.killTreeSync('SIGKILL');
    other = await ZkWireClient.connect({ host: '127.0.0.1', port: p2!, timeoutMs: 10_000 });
    await other.send({ op: 'setData', path: '/k', data: Buffer.from('changed while away'), version: -1 });
    const r = await ZkWireClient.connect({
      host: '127.0.0.1', port: p2!, timeoutMs: 10_000, sessionId, passwd, lastZxidSeen: zxid, onNotification: (e) => events.push(e),
    });
    assert.equal(r.session.sessionId, sessionId, 'resumed on the other proxy');
    await r.send({ op: 'setWatches', relativeZxid: zxid, dataWatches: ['/k'], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] });
    assert.deepEqual(events.map((e) => `${e.type} ${e.path}`), ['3 /k'], 'the missed change fires on SetWatches');
    const eph = await r.send({ op: 'exists', path: '/k/eph', watch: false });
    assert.equal(eph.body?.op === 'stat' && eph.body.stat.ephemeralOwner, sessionId, 'the ephemeral survived');
    await r.close();
    const gone = await other.send({ op: 'exists', path: '/k/eph', watch: false });
    assert.equal(gone.header.err, -101, 'closing the session removed the ephemeral');
  } finally {
    other?.drop();
    a.killTreeSync('SIGKILL');
    await b.stop();
    await etcd.stop();
  }
});
