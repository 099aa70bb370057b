/**
 * ClickHouse replicated tables (Debian's clickhouse-server 18.16) on a 3-member Coracle cluster,
 * every member serving ZooKeeper, each replica given all three ports: the member one replica is
 * connected to is made the Raft leader and killed with SIGKILL, so the store loses its leader
 * and the replica its connection at once.
 *
 * ClickHouse's client does not resume a session elsewhere after losing its connection: the
 * replica turns read-only, opens a new session on a survivor, and must wait until its old
 * session's `is_active` ephemeral is gone before it serves writes again. So the old session,
 * whose connection died with its member, has to expire through the surviving members (their
 * proxies adopt the sessions recorded in the store), within the session timeout plus the time the
 * cluster needs to elect a leader. Then inserts on that replica work, reach the other one, and
 * both see two active replicas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { CoracleCluster, ClusterMember } from '../support/cluster';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { ClickHouseServer, startReplicaPair, syncReplicas, valuesList } from '../support/clickhouse';
import { connectedPorts } from '../support/process-sockets';
import { pollUntil } from '../support/poll';

const SESSION_TIMEOUT_MS = 6000;
/**
 * When the store's own lease would end the old session had no surviving proxy expired it
 * (timeout × 4/3 + 3 s, zkproxy/README.md): recovery must come before.
 */
const LEASE_FALLBACK_MS = (SESSION_TIMEOUT_MS * 4) / 3 + 3000;
/** How long the test waits at all. */
const RECOVERY_BOUND_MS = SESSION_TIMEOUT_MS * 2 + 15_000;

test('ClickHouse replicas recover when the Coracle member one of them uses is killed', { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('clickhouse', 'etcdctl');
  if (skip) return t.skip(skip);
  const cluster = await CoracleCluster.start({ size: 3, zk: true });
  const dir = createTempDir('clickhouse-');
  const replicas: ClickHouseServer[] = [];
  try {
    const zkPorts = cluster.members.map((m) => m.zkPort!);
    replicas.push(...(await startReplicaPair({ zkPorts, parentDir: dir, sessionTimeoutMs: SESSION_TIMEOUT_MS })));
    const [r1, r2] = replicas as [ClickHouseServer, ClickHouseServer];
    for (const r of replicas) await r.query("CREATE TABLE t (id UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/t', '{replica}') ORDER BY id");
    await r1.query(`INSERT INTO t VALUES ${valuesList(1, 10)}`);
    await syncReplicas(replicas);
    assert.equal(await r2.query('SELECT count() FROM t'), '10\n');

    const usedBy = (r: ClickHouseServer): ClusterMember[] => {
      const ports = connectedPorts(r.process.pid);
      return cluster.members.filter((m) => ports.includes(m.zkPort!));
    };
    const victim = await pollUntil('the one member r1 is connected to', async () => {
      const used = usedBy(r1);
      return used.length === 1 ? used[0] : undefined;
    }, 15_000, 250);
    await cluster.moveLeaderTo(victim);
    await cluster.kill9(victim);
    const killedAt = performance.now();

    // An insert retried until r1 takes it (read-only until its new session holds is_active; a
    // retry of a block that did land is deduplicated).
    const errors = new Set<string>();
    await pollUntil('r1 takes an insert again', async () => {
      try {
        await r1.query(`INSERT INTO t VALUES ${valuesList(11, 20)}`);
        return true;
      } catch (err) {
        errors.add((/Code: (\d+)/.exec((err as Error).message) ?? ['', 'other'])[1]!);
        return undefined;
      }
    }, RECOVERY_BOUND_MS, 250);
    const recoveredMs = performance.now() - killedAt;
    t.diagnostic(`killed ${victim.name} (Raft leader, r1's member); r1 took inserts again after ${Math.round(recoveredMs)} ms (error codes meanwhile: ${[...errors].join(', ') || 'none'})`);

    assert.ok(recoveredMs < LEASE_FALLBACK_MS, `the old session ended through the survivors' proxies, before its lease would (${Math.round(recoveredMs)} ms)`);
    await syncReplicas(replicas);
    for (const r of replicas) assert.equal(await r.query('SELECT count(), sum(id) FROM t'), '20\t210\n', `${r.name}: both inserts, once`);
    for (const r of replicas) {
      await pollUntil(`${r.name} sees two active replicas`, async () => ((await r.query("SELECT active_replicas, is_readonly FROM system.replicas WHERE table = 't'")) === '2\t0\n' ? true : undefined), 30_000, 250);
    }
    const now = usedBy(r1);
    assert.ok(now.length > 0 && !now.includes(victim), `r1 moved to a surviving member (connected to ${now.map((m) => m.name).join(', ') || 'none'})`);
  } finally {
    for (const r of replicas) await r.stop();
    await cluster.close();
    removeTempDir(dir);
  }
});
