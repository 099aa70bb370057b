/** Read-only mode's switch, its local sessions, and the decorator that refuses their writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../../../protocol/jute';
import { ReadOnlyMode } from '../../../../zkproxy/session/read-only-mode';
import { ReadOnlySessions } from '../../../../zkproxy/session/read-only-sessions';
import { READ_ONLY_REFUSED, withReadOnly } from '../../../../zkproxy/dispatch/read-only-handler';
import { ALL_OPS, ZkContext, ZkHandler, ZkReply, dispatch } from '../../../../zkproxy/dispatch/zk-handler';
import { Session } from '../../../../zkproxy/session/session-table';
import { sessionPassword } from '../../../../zkproxy/session/session-password';
import { silentLogger } from '../../../../zkproxy/logger';
import type { ZkRequest } from '../../../../protocol/jute';
import { MemoryBackend } from '../../../../zkproxy/backend/memory-backend';
import { startZkProxy } from '../../../../zkproxy/zk-proxy';

const SECRET = Buffer.from('cluster-secret');

function clock(start = 1000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

test('ReadOnlyMode enters after the quorum is out of reach for the delay, and leaves at once', () => {
  const c = clock();
  let quorum = true;
  const events: string[] = [];
  const mode = new ReadOnlyMode(() => quorum, { entered: () => events.push('in'), left: () => events.push('out') },
    { enterAfterMs: 2000, checkIntervalMs: 60_000, now: c.now }, silentLogger);
  try {
    mode.check();
    assert.equal(mode.active, false);
    quorum = false;
    mode.check();
    c.advance(1999);
    mode.check();
    assert.equal(mode.active, false, 'not before the delay');
    quorum = true;
    mode.check();
    quorum = false;
    c.advance(1500);
    mode.check();
    assert.equal(mode.active, false, 'a leader seen in between restarts the delay');
    c.advance(2000);
    mode.check();
    assert.equal(mode.active, true);
    c.advance(5000);
    mode.check();
    assert.deepEqual(events, ['in'], 'entered once');
    quorum = true;
    mode.check();
    assert.equal(mode.active, false);
    assert.deepEqual(events, ['in', 'out']);
  } finally {
    mode.stop();
  }
});

interface FakeOwner { closed: string[]; closeConnection(reason: string): void }
function owner(): FakeOwner {
  const o: FakeOwner = { closed: [], closeConnection: (r) => o.closed.push(r) };
  return o;
}

test('ReadOnlySessions: made with the cluster password, resumed, expired by silence, all closed at the end', () => {
  const c = clock();
  const sessions = new ReadOnlySessions(() => SECRET, silentLogger, { checkIntervalMs: 60_000, now: c.now });
  try {
    const a = owner();
    const s = sessions.create(4000, a);
    assert.equal(s.readOnly, true);
    assert.ok(s.id > 0n && s.id <= 0x7fff_ffff_ffff_ffffn, 'a positive 64-bit id');
    assert.deepEqual(s.passwd, sessionPassword(SECRET, s.id), 'the password any proxy derives');
    assert.notEqual(sessions.create(4000, owner()).id, s.id);
    assert.equal(sessions.resume(s.id, Buffer.alloc(16), owner()), undefined, 'wrong password');
    assert.equal(sessions.resume(12345n, sessionPassword(SECRET, 12345n), owner()), undefined, 'not one of ours');
    const b = owner();
    assert.equal(sessions.resume(s.id, s.passwd, b), s);
    assert.deepEqual(a.closed, ['session moved to a new connection']);
    c.advance(3000);
    sessions.touch(s);
    c.advance(3000);
    (sessions as unknown as { expireIdle(): void }).expireIdle();
    assert.equal(sessions.size(), 1, 'the untouched one expired, the touched one lives');
    c.advance(1001);
    (sessions as unknown as { expireIdle(): void }).expireIdle();
    assert.equal(sessions.size(), 0);
    assert.deepEqual(b.closed, ['session expired']);
    const d = owner();
    sessions.create(4000, d);
    sessions.closeAll('serving read/write again');
    assert.deepEqual(d.closed, ['serving read/write again']);
    assert.equal(sessions.size(), 0);
  } finally {
    sessions.stop();
  }
});

test('withReadOnly: a read-only session gets NOTREADONLY for every state-changing op and sync; reads pass; closeSession ends it', async () => {
  const calls: string[] = [];
  const inner = Object.fromEntries(ALL_OPS.map((op) => [op, (): Promise<ZkReply> => {
    calls.push(op);
    return Promise.resolve({ err: ZkErr.OK, zxid: 7 });
  }])) as unknown as ZkHandler;
  const closed: bigint[] = [];
  const h = withReadOnly(inner, { zxid: () => 42, close: (s) => closed.push(s.id) });
  const ctxOf = (readOnly: boolean): ZkContext => ({
    session: { id: 9n, readOnly } as unknown as Session, auth: [], watchTarget: undefined as never,
    remoteAddress: '127.0.0.1', notificationTaps: [],
  });
  for (const op of ALL_OPS) {
    calls.length = 0;
    const reply = await dispatch(h, ctxOf(true), { op } as ZkRequest);
    if (READ_ONLY_REFUSED.has(op)) {
      assert.deepEqual(reply, { err: ZkErr.NOTREADONLY, zxid: 42 }, op);
      assert.deepEqual(calls, [], `${op} must not reach the store`);
    } else if (op === 'closeSession') {
      assert.deepEqual(reply, { err: ZkErr.OK, zxid: 42, close: true });
      assert.deepEqual(calls, []);
    } else {
      assert.deepEqual(calls, [op], `${op} passes`);
    }
    calls.length = 0;
    await dispatch(h, ctxOf(false), { op } as ZkRequest);
    assert.deepEqual(calls, [op], `${op} of a read/write session passes`);
  }
  assert.deepEqual(closed, [9n]);
  for (const op of ['create', 'setData', 'delete', 'multi', 'check', 'sync', 'setACL', 'reconfig'] as const) assert.ok(READ_ONLY_REFUSED.has(op));
  for (const op of ['getData', 'exists', 'getChildren2', 'multiRead', 'ping', 'auth', 'setWatches', 'addWatch'] as const) assert.ok(!READ_ONLY_REFUSED.has(op));
});

test('read-only mode over a backend that cannot tell a lost quorum (the memory backend) is refused before anything starts', async () => {
  const backend = new MemoryBackend();
  try {
    await assert.rejects(startZkProxy({ backend, port: 0, readOnlyMode: true }), /read-only mode needs a store that can tell whether its cluster has a quorum/);
  } finally {
    await backend.close();
  }
});
