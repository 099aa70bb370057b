/**
 * Records of the client protocol: handshake sizes (44/45 and 36/37 bytes, zk-protocol.md
 * §1.3), Stat is 68 bytes, multi encoding (§1.8), and unknown op codes are typed errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  JuteDecodeError, JuteReader, JuteWriter, OpCode, STAT_BYTES, ZkRequest, decodeRequest, decodeResponse,
  emptyStat, encodeRequest, encodeResponse, readConnectRequest, writeConnectRequest, writeConnectResponse,
  writeStat, readConnectResponse,
} from '../../../../protocol/jute';

test('ConnectRequest is 44 bytes without readOnly and 45 with it', () => {
  for (const readOnly of [undefined, false]) {
    const w = new JuteWriter();
    const req = { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly };
    if (readOnly === undefined) delete req.readOnly;
    writeConnectRequest(w, req);
    assert.equal(w.length(), readOnly === undefined ? 44 : 45);
    const back = readConnectRequest(new JuteReader(w.toBuffer()));
    assert.deepEqual(back, req);
  }
});

test('ConnectRequest with two extra bytes is malformed', () => {
  const w = new JuteWriter();
  writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 1, sessionId: 0n, passwd: Buffer.alloc(16) });
  w.writeInt(0).writeBool(true);
  assert.throws(() => readConnectRequest(new JuteReader(w.toBuffer())), JuteDecodeError);
});

test('ConnectResponse is 36 bytes, 37 with readOnly', () => {
  const w = new JuteWriter();
  writeConnectResponse(w, { protocolVersion: 0, timeOut: 4000, sessionId: 5n, passwd: Buffer.alloc(16) });
  assert.equal(w.length(), 36);
  const w2 = new JuteWriter();
  writeConnectResponse(w2, { protocolVersion: 0, timeOut: 4000, sessionId: 5n, passwd: Buffer.alloc(16), readOnly: false });
  assert.equal(w2.length(), 37);
  assert.equal(readConnectResponse(new JuteReader(w.toBuffer())).readOnly, undefined);
});

test('Stat is 68 bytes', () => {
  const w = new JuteWriter();
  writeStat(w, emptyStat());
  assert.equal(w.length(), STAT_BYTES);
});

const requests: ZkRequest[] = [
  { op: 'create', path: '/a', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 3 },
  { op: 'createTTL', path: '/t', data: Buffer.from('x'), acl: [], flags: 5, ttl: 1000n },
  { op: 'delete', path: '/a', version: -1 },
  { op: 'getChildren2', path: '/', watch: true },
  { op: 'setData', path: '/a', data: Buffer.alloc(3), version: 2 },
  { op: 'setACL', path: '/a', acl: [], version: 0 },
  { op: 'multi', ops: [
    { op: 'create', path: '/m', data: Buffer.from('d'), acl: [], flags: 0 },
    { op: 'check', path: '/m', version: 0 },
    { op: 'setData', path: '/m', data: null, version: -1 },
    { op: 'delete', path: '/m', version: -1 },
  ] },
  { op: 'multi', ops: [] },
  { op: 'multiRead', ops: [{ op: 'getData', path: '/x', watch: false }, { op: 'getChildren', path: '/', watch: false }] },
  { op: 'setWatches2', relativeZxid: 9n, dataWatches: ['/a'], existWatches: [], childWatches: ['/'], persistentWatches: ['/p'], persistentRecursiveWatches: [] },
  { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('u:p') },
  { op: 'addWatch', path: '/w', mode: 1 },
  { op: 'getEphemerals', prefixPath: '/' },
  { op: 'ping' },
  { op: 'closeSession' },
];

for (const req of requests) {
  test(`request round-trip: ${req.op}`, () => {
    const w = new JuteWriter();
    encodeRequest(w, req);
    const back = decodeRequest(OpCode[req.op], new JuteReader(w.toBuffer()));
    assert.deepEqual(back, req);
  });
}

test('an unknown op code is a typed error', () => {
  assert.throws(() => decodeRequest(10, new JuteReader(Buffer.alloc(0))),
    (e: unknown) => e instanceof JuteDecodeError && e.reason === 'unknown-op');
});

test('a read op inside multi is refused', () => {
  const w = new JuteWriter();
  encodeRequest(w, { op: 'multiRead', ops: [{ op: 'getData', path: '/x', watch: false }] });
  assert.throws(() => decodeRequest(OpCode.multi, new JuteReader(w.toBuffer())),
    (e: unknown) => e instanceof JuteDecodeError && e.reason === 'bad-multi');
});

test('multi error results carry the code twice (header and ErrorResponse)', () => {
  const w = new JuteWriter();
  encodeResponse(w, { op: 'multi', results: [{ type: 'error', err: 0 }, { type: 'error', err: -101 }, { type: 'error', err: -2 }] });
  const b = w.toBuffer();
  // second element: header at 13, err field at 13+5, payload int at 13+9
  assert.equal(b.readInt32BE(13), -1);
  assert.equal(b.readInt32BE(18), -101);
  assert.equal(b.readInt32BE(22), -101);
  const back = decodeResponse(OpCode.multi, new JuteReader(b));
  assert.equal(back.op, 'multi');
});

test('addWatch reply body is an int 0', () => {
  const w = new JuteWriter();
  encodeResponse(w, { op: 'errorResponse', err: 0 });
  assert.deepEqual(w.toBuffer(), Buffer.from([0, 0, 0, 0]));
});
