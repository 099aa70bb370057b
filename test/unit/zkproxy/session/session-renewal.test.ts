/**
 * A proxy that cannot renew its sessions (zkproxy/session/session-table.ts): its member is cut
 * off from the quorum, or its etcd is unreachable. A ZooKeeper server that loses quorum closes
 * its client connections so that clients move to a server of the majority while their sessions
 * hold; it never tells a client "expired" unless the session really expired. Here the store's
 * keep-alive is switched to fail, hang or find the lease gone, under a real proxy and our wire
 * client (which pings every timeout/3, as ZooKeeper clients do).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../../../zkproxy/backend/memory-backend';
import { KvError } from '../../../../zkproxy/backend/kv-backend';
import { ZkWireClient } from '../../../../zkproxy/dispatch/zk-wire-client';
import { silentLogger, type ZkLogger } from '../../../../zkproxy/logger';
import { startZkProxy, ZkProxy } from '../../../../zkproxy';

/** Session timeout of the clients here: short, so the cases stay fast. */
const SESSION_MS = 1500;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** A memory store whose lease keep-alive can be made to fail or never answer. */
class FlakyBackend extends MemoryBackend {
  keepAlive: 'ok' | 'fail' | 'hang' = 'ok';
  /** Whether LeaseTimeToLive (asked before a session is expired) fails, and how often it was asked. */
  timeToLiveFails = false;
  timeToLiveCalls = 0;

  override leaseTimeToLive(id: bigint): ReturnType<MemoryBackend['leaseTimeToLive']> {
    this.timeToLiveCalls++;
    if (this.timeToLiveFails) return Promise.reject(new KvError('unavailable', 'etcdserver: no leader'));
    return super.leaseTimeToLive(id);
  }

  override leaseKeepAlive(id: bigint): Promise<number> {
    if (this.keepAlive === 'fail') return Promise.reject(new KvError('unavailable', 'etcdserver: no leader'));
    if (this.keepAlive === 'hang') return new Promise<number>(() => undefined);
    return super.leaseKeepAlive(id);
  }
}

async function withProxy(fn: (backend: FlakyBackend, connect: (sessionId?: bigint, passwd?: Buffer) => Promise<ZkWireClient>, proxy: ZkProxy) => Promise<void>, logger: ZkLogger = silentLogger): Promise<void> {
  const backend = new FlakyBackend();
  // tickTime 100: timeouts down to 200 ms are accepted, so SESSION_MS is granted as asked.
  const proxy = await startZkProxy({ backend, port: 0, tickTime: 100, logger });
  const clients: ZkWireClient[] = [];
  const connect = async (sessionId?: bigint, passwd?: Buffer): Promise<ZkWireClient> => {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port: proxy.address.port, timeoutMs: SESSION_MS, sessionId, passwd });
    clients.push(c);
    return c;
  };
  try {
    await fn(backend, connect, proxy);
  } finally {
    for (const c of clients) c.drop();
    await proxy.close();
    await backend.close();
  }
}

for (const mode of ['fail', 'hang'] as const) {
  test(`keep-alives that ${mode === 'fail' ? 'fail' : 'go unanswered'}: the connection is closed within the session timeout, the session lives on`, async () => {
    await withProxy(async (backend, connect) => {
      const c = await connect();
      const { sessionId, passwd } = c.session;
      assert.equal((await c.send({ op: 'create', path: '/e', data: null, acl: OPEN, flags: 1 })).header.err, 0);
      backend.keepAlive = mode;
      const t0 = Date.now();
      // Pings keep flowing; without the fix they are answered for ever.
      assert.ok(await c.waitClosed(3 * SESSION_MS), `connection still open ${3 * SESSION_MS} ms after keep-alives started to ${mode}`);
      const took = Date.now() - t0;
      assert.ok(took <= SESSION_MS + 600, `closed only after ${took} ms`);
      // The store recovers before the lease runs out: the client resumes the same session.
      backend.keepAlive = 'ok';
      const again = await connect(sessionId, passwd);
      assert.equal(again.session.sessionId, sessionId);
      assert.ok(again.session.timeOut > 0, 'the session was declared expired');
      const r = await again.send({ op: 'exists', path: '/e', watch: false });
      assert.equal(r.body?.op === 'stat' ? r.body.stat.ephemeralOwner : undefined, sessionId);
    });
  });
}

test('a resume the store cannot confirm is closed without an answer, not told "expired"', async () => {
  await withProxy(async (backend, connect) => {
    const c = await connect();
    const { sessionId, passwd } = c.session;
    c.drop();
    backend.keepAlive = 'fail';
    await assert.rejects(connect(sessionId, passwd), /closed during handshake/, 'the handshake was answered');
    backend.keepAlive = 'ok';
    const again = await connect(sessionId, passwd);
    assert.equal(again.session.sessionId, sessionId);
    assert.ok(again.session.timeOut > 0);
  });
});

test('a keep-alive that finds the lease gone closes the connection; the reconnect is told "expired"', async () => {
  await withProxy(async (backend, connect) => {
    const c = await connect();
    const { sessionId, passwd } = c.session;
    // The lease expires in the store behind the proxy's back (e.g. while it was cut off).
    await backend.leaseRevoke(sessionId);
    assert.ok(await c.waitClosed(3 * SESSION_MS), 'the client stayed attached to a session whose lease is gone');
    const again = await connect(sessionId, passwd);
    assert.equal(again.session.timeOut, 0, 'the reconnect was not told the session expired');
  });
});

test('healthy keep-alives: a pinging client stays connected over several timeouts', async () => {
  await withProxy(async (_backend, connect) => {
    const c = await connect();
    assert.equal(await c.waitClosed(4 * SESSION_MS), false, 'the connection was closed although keep-alives succeed');
    assert.equal((await c.send({ op: 'exists', path: '/', watch: false })).header.err, 0);
  });
});

/** A logger that keeps the messages logged at warn (everything else is dropped). */
function warnRecorder(): { logger: ZkLogger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: ZkLogger = {
    ...silentLogger,
    warn: (fields: object | string, message?: string) => { warnings.push(typeof fields === 'string' ? fields : message ?? ''); },
    child: () => logger,
  };
  return { logger, warnings };
}

test('an expiry the store cannot confirm is retried with backoff, warned about a few times, and done once the store is back', async () => {
  const { logger, warnings } = warnRecorder();
  await withProxy(async (backend, connect) => {
    const c = await connect();
    const { sessionId } = c.session;
    assert.equal((await c.send({ op: 'create', path: '/gone', data: null, acl: OPEN, flags: 1 })).header.err, 0);
    backend.timeToLiveFails = true;
    c.drop();
    // The deadline passes at SESSION_MS; then 3 s of attempts. Every 200 ms deadline check
    // would be ~15 attempts; doubling from 200 ms allows 200+400+800+1600 → at most 5.
    await new Promise((r) => setTimeout(r, SESSION_MS + 3000));
    const attempts = backend.timeToLiveCalls;
    const expiryWarnings = warnings.filter((w) => /session expiry could not be confirmed/.test(w)).length;
    assert.ok(attempts >= 3 && attempts <= 6, `${attempts} expiry attempts in 3 s`);
    assert.ok(expiryWarnings >= 2 && expiryWarnings <= 3, `${expiryWarnings} warnings for ${attempts} failed attempts`);
    // The store is back: the next attempt (≤ 3.2 s away) expires the session and its ephemeral.
    backend.timeToLiveFails = false;
    const watcher = await connect();
    const deadline = Date.now() + 8000;
    let owner: bigint | undefined = sessionId;
    while (owner !== undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const r = await watcher.send({ op: 'exists', path: '/gone', watch: false });
      owner = r.header.err === 0 ? sessionId : undefined;
    }
    assert.equal(owner, undefined, 'the ephemeral outlived the store\'s return by 8 s');
  }, logger);
});
