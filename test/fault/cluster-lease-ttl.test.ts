/**
 * LeaseTimeToLive asked of a follower answers the leader's countdown (only the leader's lessor
 * counts leases down; etcd forwards the call), not the full TTL the follower would report alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { etcdctl } from '../support/etcdctl';
import { sleep } from '../support/poll';
import { CoracleCluster } from '../support/cluster';

const TTL = 20;

test('lease timetolive on a follower shows the time left on the leader', { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const cluster = await CoracleCluster.start({ size: 3 });
  try {
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    const grant = await etcdctl(leader.endpoint, ['lease', 'grant', String(TTL)]);
    const id = /^lease ([0-9a-f]+) granted/.exec(grant.stdout)?.[1];
    assert.ok(id, grant.stdout + grant.stderr);
    await sleep(3500);
    const r = await etcdctl(follower.endpoint, ['lease', 'timetolive', id]);
    const remaining = Number(/remaining\((-?\d+)s\)/.exec(r.stdout)?.[1]);
    assert.match(r.stdout, /granted with TTL\(20s\)/);
    assert.ok(remaining <= TTL - 3 && remaining > 0, `the follower reported ${remaining}s left: ${r.stdout}`);
  } finally {
    await cluster.close();
  }
});
