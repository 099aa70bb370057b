/**
 * A real service built on ZooKeeper, run unmodified on Coracle: ClickHouse (Debian's 18.16),
 * whose ReplicatedMergeTree tables coordinate their replicas through ZooKeeper with ClickHouse's
 * own C++ client: distributed DDL (`ON CLUSTER`, a queue of sequential znodes), a replication
 * log of sequential znodes, insert deduplication by block hash (a multi that fails when the hash
 * znode exists), block numbers from ephemeral sequential znodes created and deleted per insert,
 * quorum inserts, mutations, leader election, and replica liveness (an ephemeral `is_active` of
 * the replica's session).
 *
 * Two replicas run one script on three stores: Coracle's ZooKeeper port, `coracle zk-proxy` in
 * front of a real etcd 3.4, and a real Apache ZooKeeper 3.8. Each run must replicate and
 * deduplicate correctly, take concurrent inserts on both replicas, and survive a replica crash
 * (its session expires, the other replica sees it inactive, it catches up after a restart). Then
 * what ClickHouse derived from ZooKeeper's answers (the deduplication hashes, the block numbers
 * in the part names, the mutation and DDL ids, the rows) must be the same on Coracle as on
 * ZooKeeper.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { startCoracle } from '../support/coracle-server';
import { startEtcd } from '../support/etcd-peer';
import { startZkProxyProcess } from '../support/zk-proxy-process';
import { startZookeeper } from '../support/zookeeper-peer';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { ClickHouseServer, activeParts, mergeFinal, mutationsDone, queryUntil, replicationLog, startReplicaPair, syncReplicas, valuesList, znodeChildren } from '../support/clickhouse';
import { freePorts } from '../support/ports';

/** A ZooKeeper port for the run and how to stop what serves it. */
interface Store {
  zkPort: number;
  stop(): Promise<void>;
}

/** What ClickHouse made of its ZooKeeper's answers; equal across stores when they answer alike. */
interface Transcript {
  /** `partition, rows, sum(id)` per replica. */
  rows: Record<string, string>;
  /** Active parts after a final merge: `partition, min block, max block, data version` (the same on both replicas). */
  parts: string;
  /** The deduplication hashes (`blocks/`), one per distinct inserted block. */
  blocks: string;
  /** The mutation ids (`mutations/`, sequential). */
  mutations: string;
  /** The distributed DDL queue (`query-` sequential znodes). */
  ddl: string;
}

const SESSION_TIMEOUT_MS = 4000;
const ZK_TABLE = '/clickhouse/tables/t';

/** Rows `from..to` as a VALUES list; partition = id % 2, so each insert makes two parts. */
function rowsSql(from: number, to: number): string {
  return valuesList(from, to, (id) => `${id}, ${id % 2}, 'v${id}'`);
}

/** CREATE … ON CLUSTER, inserts on both replicas and a deduplicated retry. */
async function createAndInsert(replicas: ClickHouseServer[], cluster: readonly number[]): Promise<void> {
  const [r1, r2] = replicas as [ClickHouseServer, ClickHouseServer];
  // Distributed DDL: r1 queues the CREATE in ZooKeeper, each server's DDL worker runs its part.
  const created = await r1.query(`CREATE TABLE t ON CLUSTER c (id UInt64, p UInt8, s String) ENGINE = ReplicatedMergeTree('${ZK_TABLE}', '{replica}') PARTITION BY p ORDER BY id`);
  assert.deepEqual(created.split('\n').filter(Boolean).map((l) => l.split('\t').slice(0, 3).join(' ')).sort(),
    cluster.map((p) => `127.0.0.1 ${p} 0`).sort(), `ON CLUSTER: both servers ran the CREATE (host, port, status):\n${created}`);
  for (const r of replicas) assert.equal(await r.query("SELECT count() FROM system.tables WHERE name = 't'"), '1\n');
  await r1.query(`INSERT INTO t VALUES ${rowsSql(1, 10)}`);
  await r2.query(`INSERT INTO t VALUES ${rowsSql(11, 15)}`);
  // The same block again (a client retrying an insert it did not hear back from): deduplicated.
  await r1.query(`INSERT INTO t VALUES ${rowsSql(1, 10)}`);
  await syncReplicas(replicas);
  for (const r of replicas) assert.equal(await r.query('SELECT count(), sum(id) FROM t'), '15\t120\n', `${r.name}: both inserts once`);
  assert.equal(await r1.query(`SELECT count() FROM system.replicas WHERE table = 't' AND active_replicas = 2 AND is_readonly = 0`), '1\n');
}

/** SIGKILL of r2: its session must expire (its is_active znode goes), not before its timeout; then it catches up. */
async function crashAndCatchUp(t: TestContext, label: string, replicas: ClickHouseServer[]): Promise<void> {
  const [r1, r2] = replicas as [ClickHouseServer, ClickHouseServer];
  const crashedAt = performance.now();
  await r2.kill();
  await queryUntil(r1, 'r2 seen inactive', "SELECT active_replicas FROM system.replicas WHERE table = 't'", '1\n', 30_000);
  const inactiveAfter = performance.now() - crashedAt;
  t.diagnostic(`${label}: r2 inactive ${Math.round(inactiveAfter)} ms after its crash`);
  assert.ok(inactiveAfter >= SESSION_TIMEOUT_MS / 2, `the session outlived the crash by less than half its timeout (${Math.round(inactiveAfter)} ms)`);
  await r1.query(`INSERT INTO t VALUES ${rowsSql(18, 20)}`);
  await r2.restart();
  await queryUntil(r2, 'back to writable', "SELECT is_readonly FROM system.replicas WHERE table = 't'", '0\n');
  await r2.query(`INSERT INTO t VALUES ${rowsSql(21, 24)}`);
  await syncReplicas(replicas);
  for (const r of replicas) assert.equal(await r.query('SELECT count(), sum(id) FROM t'), '22\t267\n', `${r.name}: every insert once, across the crash`);
  await queryUntil(r1, 'r2 active again', "SELECT active_replicas FROM system.replicas WHERE table = 't'", '2\n');
}

/**
 * A merge assigned by the leader through the log, then a mutation, on both replicas. Returns
 * the parts, then the znodes ClickHouse keeps (the log must be numbered 0, 1, 2…).
 */
async function mergeAndMutate(replicas: ClickHouseServer[]): Promise<Transcript> {
  const r1 = replicas[0]!;
  await mergeFinal(replicas, 't', 2);
  await r1.query('ALTER TABLE t DELETE WHERE id % 5 = 0');
  for (const r of replicas) await mutationsDone(r, 't', 1);
  for (const r of replicas) await queryUntil(r, 'rows after the mutation', 'SELECT count(), sum(id) FROM t', '18\t217\n');
  await replicationLog(r1, ZK_TABLE);
  return {
    rows: {}, parts: await activeParts(replicas, 't'), blocks: await znodeChildren(r1, `${ZK_TABLE}/blocks`),
    mutations: await znodeChildren(r1, `${ZK_TABLE}/mutations`), ddl: await znodeChildren(r1, '/clickhouse/task_queue/ddl'),
  };
}

/** A quorum insert, then twenty concurrent inserts on both replicas; returns the rows per partition. */
async function quorumAndConcurrent(replicas: ClickHouseServer[]): Promise<Record<string, string>> {
  const [r1, r2] = replicas as [ClickHouseServer, ClickHouseServer];
  // Acknowledged once both replicas have it (tracked in quorum/ znodes with multi and check),
  // then read sequentially consistent on the other replica. It comes after the merges (see
  // mergeFinal).
  await r1.query(`INSERT INTO t VALUES ${rowsSql(16, 17)}`, { insert_quorum: 2 });
  assert.equal(await r2.query('SELECT count(), sum(id) FROM t', { select_sequential_consistency: 1 }), '20\t250\n');
  // Block numbers allocated under contention.
  await Promise.all(Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.query(`INSERT INTO t VALUES ${rowsSql(101 + i, 101 + i)}`)));
  await syncReplicas(replicas);
  const rows: Record<string, string> = {};
  for (const r of replicas) {
    assert.equal(await r.query('SELECT count(), sum(id) FROM t'), '40\t2460\n', `${r.name}: the concurrent inserts`);
    rows[r.name] = await r.query('SELECT p, count(), sum(id) FROM t GROUP BY p ORDER BY p');
  }
  return rows;
}

async function scenario(t: TestContext, label: string, open: () => Promise<Store>): Promise<Transcript> {
  const store = await open();
  const dir = createTempDir('clickhouse-');
  const replicas: ClickHouseServer[] = [];
  try {
    const cluster = await freePorts(2);
    replicas.push(...(await startReplicaPair({ zkPorts: [store.zkPort], parentDir: dir, sessionTimeoutMs: SESSION_TIMEOUT_MS, cluster })));
    await createAndInsert(replicas, cluster);
    await crashAndCatchUp(t, label, replicas);
    const transcript = await mergeAndMutate(replicas);
    transcript.rows = await quorumAndConcurrent(replicas);
    return transcript;
  } finally {
    for (const r of replicas) await r.stop();
    await store.stop();
    removeTempDir(dir);
  }
}

async function coracleStore(): Promise<Store> {
  const coracle = await startCoracle();
  return { zkPort: coracle.zkPort, stop: async () => void (await coracle.stop()) };
}

async function proxyOverEtcdStore(): Promise<Store> {
  const etcd = await startEtcd();
  const proxy = await startZkProxyProcess(etcd.endpoints);
  return { zkPort: proxy.port, stop: async () => {
    await proxy.stop();
    await etcd.stop();
  } };
}

async function zookeeperStore(): Promise<Store> {
  const zk = await startZookeeper();
  return { zkPort: zk.port, stop: () => zk.stop() };
}

test('ClickHouse replicated tables: the same script on ZooKeeper 3.8, Coracle and coracle zk-proxy over etcd 3.4', { timeout: 280_000 }, async (t) => {
  const skip = requirePeer('clickhouse', 'zookeeper', 'etcd');
  if (skip) return t.skip(skip);
  const reference = await scenario(t, 'ZooKeeper 3.8', zookeeperStore);
  t.diagnostic(`on ZooKeeper: ${JSON.stringify(reference)}`);
  await t.test('Coracle\'s ZooKeeper port: replicas, dedup, a crash, merge, mutation; ClickHouse sees what it sees on ZooKeeper', async (t) => {
    assert.deepEqual(await scenario(t, 'Coracle', coracleStore), reference);
  });
  await t.test('coracle zk-proxy over etcd 3.4: the same', async (t) => {
    assert.deepEqual(await scenario(t, 'zk-proxy over etcd', proxyOverEtcdStore), reference);
  });
});
