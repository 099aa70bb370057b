/**
 * SIGKILL of a server running the in-process core with the ZooKeeper front end
 * (bench/zk-local-server.ts: one core member on LMDB + zkproxy via LocalBackend), restarted on
 * the same data: every acknowledged create is there, zxids keep growing (zxid = revision,
 * monotonic across restarts), and the client resumes its session — its ephemeral survives the
 * crash and goes when the session is closed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateMode } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { freePort } from '../support/ports';
import { ManagedProcess, startProcess } from '../support/process';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const SERVER = path.resolve(__dirname, '../../bench/zk-local-server.js');

async function server(port: number, dir: string): Promise<ManagedProcess> {
  const p = startProcess(process.execPath, [SERVER, String(port), dir], { name: 'zk-local' });
  await p.waitForLine(/zkproxy on/, 60_000);
  return p;
}

test('acknowledged writes and sessions survive a SIGKILL of the core + zkproxy process', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-local-crash-'));
  const port = await freePort();
  let proc = await server(port, path.join(dir, 'data'));
  try {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 20_000, ping: false });
    const { sessionId, passwd } = c.session;
    await c.send({ op: 'create', path: '/d', data: null, acl: OPEN, flags: 0 });
    const acked: string[] = [];
    let lastZxid = 0n;
    for (let i = 0; i < 50; i++) {
      const r = await c.send({ op: 'create', path: `/d/n${i}`, data: Buffer.from(String(i)), acl: OPEN, flags: 0 });
      assert.equal(r.header.err, 0);
      acked.push(`n${i}`);
      lastZxid = r.header.zxid;
    }
    await c.send({ op: 'create', path: '/d/eph', data: null, acl: OPEN, flags: CreateMode.EPHEMERAL });
    proc.killTreeSync('SIGKILL');
    c.drop();
    proc = await server(port, path.join(dir, 'data'));
    const r = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 20_000, sessionId, passwd, lastZxidSeen: lastZxid });
    assert.equal(r.session.sessionId, sessionId, 'the session resumed after the crash');
    const kids = await r.send({ op: 'getChildren', path: '/d', watch: false });
    assert.ok(kids.body?.op === 'getChildren');
    if (kids.body?.op !== 'getChildren') return;
    assert.deepEqual(kids.body.children.filter((n) => n !== 'eph').sort(), acked.sort(), 'every acknowledged create survived');
    assert.ok(kids.body.children.includes('eph'), 'the ephemeral survived with its session');
    const after = await r.send({ op: 'create', path: '/d/after', data: null, acl: OPEN, flags: 0 });
    assert.ok(after.header.zxid > lastZxid, 'zxids keep growing across the restart');
    await r.close();
    const o = await ZkWireClient.connect({ host: '127.0.0.1', port });
    const eph = await o.send({ op: 'exists', path: '/d/eph', watch: false });
    assert.equal(eph.header.err, -101, 'closing the session removed its ephemeral');
    await o.close();
  } finally {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
