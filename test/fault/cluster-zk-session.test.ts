/**
 * A ZooKeeper session on a 3-member coracle cluster (issue 4): held through a follower, it stays
 * alive past its timeout (the follower forwards keep-alives to the leader's lessor); when that
 * member is killed with SIGKILL, the client resumes the same session on another member and its
 * ephemeral survives; closing the session removes the ephemeral everywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { CoracleCluster, ClusterMember } from '../support/cluster';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** Short, so that outliving it proves the keep-alives reach the leader. */
const SESSION_MS = 4000;

function zkPort(m: ClusterMember): number {
  assert.ok(m.zkPort !== undefined, 'cluster started without ZooKeeper ports');
  return m.zkPort;
}

async function ownerOf(m: ClusterMember, path: string): Promise<bigint | undefined> {
  const c = await ZkWireClient.connect({ host: '127.0.0.1', port: zkPort(m) });
  try {
    await c.send({ op: 'sync', path: '/' });
    const r = await c.send({ op: 'exists', path, watch: false });
    if (r.header.err === ZkErr.NONODE) return undefined;
    assert.equal(r.header.err, ZkErr.OK);
    return r.body?.op === 'stat' ? r.body.stat.ephemeralOwner : undefined;
  } finally {
    await c.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ZooKeeper port opens after /health turns healthy: wait for it (bounded). */
async function zkReady(m: ClusterMember): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await (await ZkWireClient.connect({ host: '127.0.0.1', port: zkPort(m) })).close();
      return;
    } catch (err) {
      if (i >= 100) throw err;
      await sleep(100);
    }
  }
}

test('a ZooKeeper session survives its member: keep-alives through a follower, resume on another member', { timeout: 120_000 }, async () => {
  const cluster = await CoracleCluster.start({ size: 3, zk: true });
  try {
    for (const m of cluster.members) await zkReady(m);
    const leader = await cluster.leader();
    const [follower, other] = cluster.members.filter((m) => m !== leader) as [ClusterMember, ClusterMember];
    const first = await ZkWireClient.connect({ host: '127.0.0.1', port: zkPort(follower), timeoutMs: SESSION_MS });
    const { sessionId, passwd } = first.session;
    assert.equal((await first.send({ op: 'create', path: '/held', data: Buffer.from('x'), acl: OPEN, flags: 1 })).header.err, ZkErr.OK);
    // Twice the session timeout, pinging through the follower.
    await sleep(2 * SESSION_MS);
    assert.equal(await ownerOf(leader, '/held'), sessionId, 'the session expired although its client pinged a follower');

    await cluster.kill9(follower);
    first.drop();
    const resumed = await ZkWireClient.connect({ host: '127.0.0.1', port: zkPort(other), timeoutMs: SESSION_MS, sessionId, passwd });
    try {
      assert.equal(resumed.session.sessionId, sessionId, 'the session was not resumed on another member');
      assert.ok(resumed.session.timeOut > 0, 'the resumed session was refused as expired');
      await sleep(2 * SESSION_MS);
      assert.equal(await ownerOf(leader, '/held'), sessionId, 'the ephemeral did not survive its member');
      await resumed.send({ op: 'closeSession' });
    } finally {
      resumed.drop();
    }
    assert.equal(await ownerOf(other, '/held'), undefined, 'closing the session left its ephemeral behind');
  } finally {
    await cluster.close();
  }
});
