/**
 * Leases across a kill -9 and restart, as etcd keeps them: a granted lease and its attached key
 * survive the restart, the lease's TTL starts again in full on the new primary (plus the
 * election-based extension), and it still expires through the log afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { etcdctl } from '../support/etcdctl';
import { startCoracle } from '../support/coracle-server';
import { pollUntil, sleep } from '../support/poll';

const TTL = 4;

test('a lease and its key survive kill -9; the TTL restarts in full, then the lease expires', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await startCoracle(['--zk-listen', '']);
  try {
    const grant = await etcdctl(c.endpoint, ['lease', 'grant', String(TTL)]);
    const id = /^lease ([0-9a-f]+) granted/.exec(grant.stdout)?.[1];
    assert.ok(id, grant.stdout + grant.stderr);
    assert.equal((await etcdctl(c.endpoint, ['put', 'held', 'v', '--lease', id])).code, 0);
    // Most of the TTL passes before the crash: a restart that kept the old deadline would let
    // the lease expire at once.
    await sleep((TTL - 1) * 1000);
    await c.kill9();
    await c.restart();
    const after = await etcdctl(c.endpoint, ['get', 'held', '--print-value-only']);
    assert.equal(after.stdout.trim(), 'v', 'the leased key did not survive the restart');
    const ttl = await etcdctl(c.endpoint, ['lease', 'timetolive', id]);
    const remaining = Number(/remaining\((-?\d+)s\)/.exec(ttl.stdout)?.[1]);
    assert.ok(remaining >= TTL - 1, `the TTL did not restart in full: ${ttl.stdout}`);
    await pollUntil('the lease expires after the restart', async () => {
      const r = await etcdctl(c.endpoint, ['get', 'held', '--print-value-only']);
      return r.code === 0 && r.stdout.trim() === '' ? true : undefined;
    }, 20_000, 250);
    const gone = await etcdctl(c.endpoint, ['lease', 'timetolive', id]);
    assert.match(gone.stdout, /already expired/);
  } finally {
    await c.stop();
  }
});
