/**
 * Fuzzing the ZooKeeper listener (zk-protocol.md §1.1, §6.12): malformed and truncated frames,
 * oversize and negative lengths, garbage before the handshake, bad paths, unknown op codes and
 * random bodies under every op code. The process must not crash, each bad input must get the
 * right answer (UNIMPLEMENTED then close for an unknown op code; BADARGUMENTS/NONODE for bad
 * paths; a closed connection for malformed bytes), and a session opened beforehand must keep
 * working throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket, connect } from 'node:net';
import fc from 'fast-check';
import { JuteWriter, OpCode, ZkErr, writeConnectRequest, writeRequestHeader } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from '../interop/zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function handshakeFrame(): Buffer {
  const w = new JuteWriter().startFrame();
  writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
  return w.endFrame().toBuffer();
}

function frame(payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeInt32BE(payload.length);
  return Buffer.concat([h, payload]);
}

/** Sends `bytes` on a fresh connection; resolves with what came back once the server closed (or 3 s passed). */
function blast(port: number, bytes: Buffer, withHandshake: boolean): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), 3000);
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('close', () => finish(true));
    s.on('error', () => undefined);
    s.on('connect', () => s.write(withHandshake ? Buffer.concat([handshakeFrame(), bytes]) : bytes));
  });
}

/** The ReplyHeader err of the first reply after the 37-byte ConnectResponse frame (4 + 37). */
function firstReplyErr(data: Buffer): number | undefined {
  const at = 4 + 37;
  if (data.length < at + 4 + 16) return undefined;
  return data.readInt32BE(at + 4 + 12);
}

function request(xid: number, type: number, body: Buffer): Buffer {
  const w = new JuteWriter().startFrame();
  writeRequestHeader(w, { xid, type });
  w.writeRaw(body);
  return w.endFrame().toBuffer();
}

test('malformed input never crashes the listener or disturbs other sessions', { timeout: 120_000 }, async (t) => {
  const h = await startHarness({ maxFrame: 4096 });
  const victim = await ZkWireClient.connect({ host: h.host, port: h.port });
  const victimWorks = async (): Promise<void> => {
    const r = await victim.send({ op: 'getChildren', path: '/', watch: false });
    assert.equal(r.header.err, 0);
  };
  try {
    await victim.send({ op: 'create', path: '/v', data: null, acl: OPEN, flags: 0 });

    await t.test('oversize, negative and garbage lengths close the connection', async () => {
      for (const len of [0x7fffffff, 4097, -1, -100]) {
        const b = Buffer.alloc(8);
        b.writeInt32BE(len);
        const r = await blast(h.port, b, false);
        assert.equal(r.closed, true, `length ${len}`);
        assert.equal(r.data.length, 0);
      }
      const r = await blast(h.port, frame(Buffer.from('not a connect request')), false);
      assert.equal(r.closed, true);
      await victimWorks();
    });

    await t.test('unknown op codes get UNIMPLEMENTED, then the connection closes', async () => {
      for (const op of [10, 23, 99, 108, 500, -5, 0x7fffffff]) {
        const r = await blast(h.port, request(1, op, Buffer.alloc(0)), true);
        assert.equal(r.closed, true, `op ${op}`);
        assert.equal(firstReplyErr(r.data), ZkErr.UNIMPLEMENTED, `op ${op}`);
      }
      await victimWorks();
    });

    await t.test('truncated bodies of every op close the connection without a reply', async () => {
      for (const op of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 100, 101, 103, 104, 105, 106]) {
        const r = await blast(h.port, request(1, op, Buffer.from([0, 0, 0, 9, 0x2f])), true);
        assert.equal(r.closed, true, `op ${op}`);
        assert.equal(firstReplyErr(r.data), undefined, `op ${op} must not be answered`);
      }
      await victimWorks();
    });

    await t.test('bad paths: BADARGUMENTS for writes, NONODE for reads', async () => {
      const c = await ZkWireClient.connect({ host: h.host, port: h.port });
      for (const path of ['', 'a', '/a/', '//a', '/a\u0000b', '/.', '/a/..', '/a\u0001', '/\ud800x', '/v/\uffff']) {
        const cr = await c.send({ op: 'create', path, data: null, acl: OPEN, flags: 0 });
        assert.ok([ZkErr.BADARGUMENTS, ZkErr.NONODE].includes(cr.header.err as -8), `create ${JSON.stringify(path)} → ${cr.header.err}`);
        const sd = await c.send({ op: 'setData', path, data: null, version: -1 });
        assert.equal(sd.header.err, ZkErr.BADARGUMENTS, `setData ${JSON.stringify(path)}`);
        const gd = await c.send({ op: 'getData', path, watch: true });
        // ZooKeeper files the root under "" too, so a read of "" sees "/".
        assert.equal(gd.header.err, path === '' ? ZkErr.OK : ZkErr.NONODE, `getData ${JSON.stringify(path)}`);
      }
      const del = await c.send({ op: 'delete', path: '/zookeeper', version: -1 });
      assert.equal(del.header.err, ZkErr.BADARGUMENTS);
      const big = await c.send({ op: 'create', path: '/big', data: Buffer.alloc(5000), acl: OPEN, flags: 0 }).catch(() => 'closed');
      assert.equal(big, 'closed', 'a frame above the maximum closes the connection');
      await victimWorks();
    });

    await t.test('random bodies under every op code', async () => {
      const codes = [...Object.values(OpCode), 10, 23, 200];
      await fc.assert(fc.asyncProperty(fc.constantFrom(...codes), fc.uint8Array({ maxLength: 96 }), async (op, body) => {
        const r = await blast(h.port, request(7, op, Buffer.from(body)), true);
        assert.ok(r.closed || r.data.length >= 41, 'either answered or closed');
      }), { numRuns: 150 });
      await victimWorks();
    });

    await t.test('a flood of pipelined requests on one connection is answered in order', async () => {
      const c = await ZkWireClient.connect({ host: h.host, port: h.port });
      const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => c.send({ op: i % 2 ? 'exists' : 'getData', path: '/v', watch: false })));
      assert.equal(replies.length, 500);
      c.drop();
      await victimWorks();
    });
  } finally {
    victim.drop();
    await h.stop();
  }
});
