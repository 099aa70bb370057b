/**
 * Patroni (PostgreSQL high availability) on a 3-member Coracle cluster, over the ZooKeeper ports
 * and over the etcd v3 API: the member Patroni is connected to is made the Raft leader
 * (`etcdctl move-leader`) and killed with SIGKILL, so the store loses its leader and Patroni its
 * connection at once. The
 * primary must not notice beyond a reconnect: it stays the running primary, its leader lock is
 * still there one full ttl after the kill (so its session / lease was renewed through the
 * surviving members), and it is connected to one of them. A store whose sessions died with their
 * member, or that stalled past Patroni's retry_timeout, would make it demote itself.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { CoracleCluster, ClusterMember } from '../support/cluster';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { PatroniDcs, PatroniNode, PatroniTiming, isRunningPrimary, startPatroniNode } from '../support/patroni';
import { DcsView, etcdView, zkView } from '../support/patroni-dcs-view';
import { connectedPorts } from '../support/process-sockets';
import { pollUntil, sleep } from '../support/poll';

/** Patroni's defaults but a shorter ttl and loop, so one ttl fits a test (ttl ≥ loop + 2 × retry). */
const TIMING: PatroniTiming = { ttl: 20, loop_wait: 2, retry_timeout: 8 };

async function memberLoss(t: TestContext, kind: PatroniDcs['kind']): Promise<void> {
  const scope = `pg-ha-${kind}`;
  const cluster = await CoracleCluster.start({ size: 3, zk: true });
  const dir = createTempDir('patroni-');
  const portOf = (m: ClusterMember): number => (kind === 'zookeeper' ? m.zkPort! : m.clientPort);
  let node: PatroniNode | undefined;
  let view: DcsView | undefined;
  try {
    node = await startPatroniNode(scope, 'pg1', dir, { kind, ports: cluster.members.map(portOf) }, TIMING);
    const patroni = node;
    await patroni.waitFor('bootstrap as the primary', isRunningPrimary, 120_000);
    const usedBy = (pid: number): ClusterMember[] => {
      const ports = connectedPorts(pid);
      return cluster.members.filter((m) => ports.includes(portOf(m)));
    };
    const victim = await pollUntil('the one member Patroni is connected to', async () => {
      const used = usedBy(patroni.process.pid);
      return used.length === 1 ? used[0] : undefined;
    }, 15_000, 250);
    const survivor = cluster.members.find((m) => m !== victim)!;
    view = kind === 'zookeeper' ? await zkView(portOf(survivor), scope) : etcdView(portOf(survivor), scope);
    // PostgreSQL runs as the primary a moment before Patroni's loop takes the lock.
    await pollUntil('pg1 holds the lock', async () => ((await view!.leader()) === 'pg1' ? true : undefined), 30_000, 250);
    await cluster.moveLeaderTo(victim);

    await cluster.kill9(victim);
    const killedAt = performance.now();
    const seen = new Set<string>();
    // One ttl and a margin: the lock would have lapsed by then unless renewed through a survivor.
    for (let i = 0; i < 200 && performance.now() - killedAt < (TIMING.ttl + 5) * 1000; i++) {
      const s = await patroni.status();
      seen.add(s ? `${s.role}/${s.state}` : 'no answer');
      await sleep(250);
    }
    t.diagnostic(`${kind}: killed ${victim.name}, the Raft leader; Patroni reported ${[...seen].join(', ')}`);
    assert.ok([...seen].every((s) => s === 'master/running' || s === 'primary/running'), `the primary stayed the primary: ${[...seen].join(', ')}`);
    assert.equal(await view.leader(), 'pg1', 'the lock is still held one ttl after the kill');
    assert.ok(await view.leaderIsLeased(), 'and still dies with its holder');
    const now = usedBy(patroni.process.pid);
    assert.ok(now.length > 0 && !now.includes(victim), `Patroni moved to a surviving member (connected to ${now.map((m) => m.name).join(', ') || 'none'})`);
  } finally {
    await node?.process.stop(20_000);
    await view?.close();
    await cluster.close();
    removeTempDir(dir);
  }
}

test('Patroni keeps its primary when the Coracle member it uses (ZooKeeper port) is killed', { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('patroni', 'etcdctl');
  if (skip) return t.skip(skip);
  await memberLoss(t, 'zookeeper');
});

test('Patroni keeps its primary when the Coracle member it uses (etcd v3 API) is killed', { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('patroni', 'etcdctl');
  if (skip) return t.skip(skip);
  await memberLoss(t, 'etcd3');
});
