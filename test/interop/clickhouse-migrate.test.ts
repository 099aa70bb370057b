/**
 * The migration path off ZooKeeper, with a real service: ClickHouse 18.16 replicas run on a
 * ZooKeeper 3.8 for a while (distributed DDL, inserts, a deduplicated retry, a mutation), are
 * stopped, `coracle zk-migrate` copies the ZooKeeper data into a running `coracle`, ZooKeeper is
 * stopped, and the replicas come back on Coracle's ZooKeeper port with the data directories they
 * had. They must carry on as if nothing happened: writable, both active, the old rows there, an
 * old block still deduplicated (its hash znode came over), and every sequential counter
 * continued rather than restarted (replication log, block numbers, mutation and DDL ids; a
 * restarted counter would reuse a name ClickHouse has already seen).
 *
 * The reference is the same script with the replicas restarted on the same ZooKeeper: what
 * ClickHouse ends with (rows, part block numbers, mutation and DDL ids, dedup hashes, the log's
 * names) must be the same after the migration as without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { startZookeeper } from '../support/zookeeper-peer';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { runCommand } from '../support/run-command';
import { freePorts } from '../support/ports';
import { ClickHouseServer, activeParts, mergeFinal, mutationsDone, queryUntil, replicationLog, startReplicaPair, syncReplicas, valuesList, znodeChildren } from '../support/clickhouse';

const TABLE = '/clickhouse/tables/m';

/** What the replicas end with. */
interface Outcome {
  rows: string;
  parts: string;
  blocks: string;
  mutations: string;
  ddl: string;
}

function values(from: number, to: number): string {
  return valuesList(from, to, (id) => `${id}, ${id % 2}`);
}

/** Before the move: the table, inserts on both replicas, a mutation. Returns the log's length. */
async function before(replicas: ClickHouseServer[]): Promise<number> {
  const [r1, r2] = replicas as [ClickHouseServer, ClickHouseServer];
  await r1.query(`CREATE TABLE m ON CLUSTER c (id UInt64, p UInt8) ENGINE = ReplicatedMergeTree('${TABLE}', '{replica}') PARTITION BY p ORDER BY id`);
  await r1.query(`INSERT INTO m VALUES ${values(1, 10)}`);
  await r2.query(`INSERT INTO m VALUES ${values(11, 20)}`);
  await r1.query('ALTER TABLE m DELETE WHERE id = 3');
  for (const r of replicas) await mutationsDone(r, 'm', 1);
  await syncReplicas(replicas, 'm');
  for (const r of replicas) assert.equal(await r.query('SELECT count(), sum(id) FROM m'), '19\t207\n');
  return (await replicationLog(r1, TABLE)).length;
}

/** After the move (or the plain restart): everything still works and every counter goes on. */
async function after(replicas: ClickHouseServer[], logBefore: number): Promise<Outcome> {
  const [r1, r2] = replicas as [ClickHouseServer, ClickHouseServer];
  for (const r of replicas) await queryUntil(r, 'writable, both replicas active', "SELECT is_readonly, active_replicas FROM system.replicas WHERE table = 'm'", '0\t2\n');
  for (const r of replicas) assert.equal(await r.query('SELECT count(), sum(id) FROM m'), '19\t207\n', `${r.name}: the rows from before`);
  await r2.query(`INSERT INTO m VALUES ${values(1, 10)}`); // an old block again: still deduplicated
  await r2.query(`INSERT INTO m VALUES ${values(21, 30)}`);
  await r1.query(`INSERT INTO m VALUES ${values(31, 32)}`);
  await r2.query('ALTER TABLE m DELETE WHERE id = 4');
  await r2.query("ALTER TABLE m ON CLUSTER c ADD COLUMN note String DEFAULT 'n'");
  for (const r of replicas) await mutationsDone(r, 'm', 2);
  await syncReplicas(replicas, 'm');
  for (const r of replicas) assert.equal(await r.query('SELECT count(), sum(id) FROM m'), '30\t521\n', `${r.name}: old and new rows, the old block once`);
  // One part per partition: its block range and version say which numbers the inserts and
  // mutations were given. Merges ClickHouse chose itself add log entries too, so of the log only
  // the numbering is compared: it went on.
  await mergeFinal(replicas, 'm', 2);
  const parts = await activeParts(replicas, 'm');
  assert.ok((await replicationLog(r1, TABLE)).length > logBefore, 'the log grew past its old entries without reusing a name');
  return {
    rows: await r1.query('SELECT p, count(), sum(id) FROM m GROUP BY p ORDER BY p'),
    parts,
    blocks: await znodeChildren(r1, `${TABLE}/blocks`),
    mutations: await znodeChildren(r1, `${TABLE}/mutations`),
    ddl: await znodeChildren(r1, '/clickhouse/task_queue/ddl'),
  };
}

async function stopAll(replicas: ClickHouseServer[]): Promise<void> {
  for (const r of replicas) await r.stop();
  replicas.length = 0;
}

/** The script, with the replicas restarted either on the same ZooKeeper or on Coracle after zk-migrate. */
async function run(migrate: boolean): Promise<Outcome> {
  const zk = await startZookeeper();
  let zkRunning = true;
  const coracle = migrate ? await startCoracle() : undefined;
  const dir = createTempDir('clickhouse-migrate-');
  const replicas: ClickHouseServer[] = [];
  try {
    const cluster = await freePorts(2);
    replicas.push(...(await startReplicaPair({ zkPorts: [zk.port], parentDir: dir, cluster })));
    const logBefore = await before(replicas);
    await stopAll(replicas);
    let port = zk.port;
    if (coracle) {
      const r = await runCommand(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', `127.0.0.1:${zk.port}`, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `zk-migrate: ${r.stderr}`);
      assert.match(r.stdout + r.stderr, /copied \d+ znodes/);
      await zk.stop(); // from here on ClickHouse can only be using Coracle
      zkRunning = false;
      port = coracle.zkPort;
    }
    replicas.push(...(await startReplicaPair({ zkPorts: [port], parentDir: dir, cluster })));
    return await after(replicas, logBefore);
  } finally {
    await stopAll(replicas);
    await coracle?.stop();
    if (zkRunning) await zk.stop();
    removeTempDir(dir);
  }
}

test('ClickHouse moves off ZooKeeper 3.8 with coracle zk-migrate and carries on as on ZooKeeper', { timeout: 280_000 }, async (t) => {
  const skip = requirePeer('clickhouse', 'zookeeper');
  if (skip) return t.skip(skip);
  const reference = await run(false);
  t.diagnostic(`restarted on ZooKeeper: ${JSON.stringify(reference)}`);
  assert.deepEqual(await run(true), reference);
});
