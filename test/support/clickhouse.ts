/**
 * One ClickHouse server (Debian's clickhouse-server 18.16) for tests that run a real service
 * built on ZooKeeper against Coracle: its replicated tables keep their replication log, part
 * lists, insert-deduplication hashes, block numbers (ephemeral sequential znodes), mutations,
 * leader election and replica liveness (an ephemeral `is_active` held by the session) in
 * ZooKeeper, through ClickHouse's own C++ ZooKeeper client.
 *
 * Everything the server writes lives in its directory under a temp dir of the test; it listens
 * on 127.0.0.1 only, on ports chosen at run time, and is queried over its HTTP interface.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLICKHOUSE_BIN } from './peers';
import { freePorts } from './ports';
import { httpRequest } from './http-request';
import { pollUntil } from './poll';
import { ManagedProcess, startProcess } from './process';

/** A started server, one replica of the test's replicated tables. */
export interface ClickHouseServer {
  /** The replica name (the `{replica}` macro). */
  name: string;
  /** Its native (TCP) port. */
  tcpPort: number;
  /** The current process (a new one after {@link restart}). */
  readonly process: ManagedProcess;
  /**
   * Runs one SQL statement with optional query settings (ClickHouse 18 takes them as URL
   * parameters); resolves with the body (TabSeparated), rejects with ClickHouse's error.
   */
  query(sql: string, settings?: Record<string, string | number>): Promise<string>;
  /** Kills the server (SIGKILL: a crash). Its ZooKeeper session is left to expire. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and directory; resolves once it answers queries. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL after a grace). */
  stop(): Promise<void>;
}

/** Options for {@link startClickHouse}. */
export interface ClickHouseOptions {
  /** Replica name; also the server's directory under `parentDir`. */
  name: string;
  /** ZooKeeper ports on 127.0.0.1 (Coracle's, a proxy's or a real ZooKeeper's; several for a cluster). */
  zkPorts: readonly number[];
  /** A temp dir of the test. */
  parentDir: string;
  /** The session timeout ClickHouse asks for (default 4000 ms). */
  sessionTimeoutMs?: number;
  /** Its native (TCP) port, when the caller chose it for a cluster; default a free port. */
  tcpPort?: number;
  /**
   * The native ports of every server of cluster `c` (one shard, a replica on each), for
   * `ON CLUSTER c` DDL, which ClickHouse queues in ZooKeeper (`/clickhouse/task_queue/ddl`).
   */
  cluster?: readonly number[];
}

const START_TIMEOUT_MS = 60_000;
const QUERY_TIMEOUT_MS = 60_000;

function configXml(dir: string, o: ClickHouseOptions, http: number, tcp: number, interserver: number): string {
  const d = (sub: string): string => path.join(dir, sub) + '/';
  return `<yandex>
  <logger><level>information</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <interserver_http_port>${interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${d('data')}</path>
  <tmp_path>${d('tmp')}</tmp_path>
  <user_files_path>${d('user_files')}</user_files_path>
  <format_schema_path>${d('format_schemas')}</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <zookeeper>
    ${o.zkPorts.map((p) => `<node><host>127.0.0.1</host><port>${p}</port></node>`).join('\n    ')}
    <session_timeout_ms>${o.sessionTimeoutMs ?? 4000}</session_timeout_ms>
  </zookeeper>
  <macros><replica>${o.name}</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>${clusterXml(o.cluster ?? [])}
</yandex>
`;
}

function clusterXml(ports: readonly number[]): string {
  if (ports.length === 0) return '';
  const replicas = ports.map((p) => `<replica><host>127.0.0.1</host><port>${p}</port></replica>`).join('');
  return `\n  <remote_servers><c><shard><internal_replication>true</internal_replication>${replicas}</shard></c></remote_servers>`;
}

/** One user, `default`, without a password, reachable from 127.0.0.1 only. */
const USERS_XML = `<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

/** POSTs `sql` to the server's HTTP interface, `settings` in the URL; a non-200 answer rejects with ClickHouse's text. */
async function post(port: number, sql: string, settings: Record<string, string | number> = {}): Promise<string> {
  const params = new URLSearchParams(Object.entries(settings).map(([k, v]) => [k, String(v)]));
  const a = await httpRequest(port, `/?${params}`, 'POST', { body: sql, timeoutMs: QUERY_TIMEOUT_MS });
  if (a.status !== 200) throw new Error(`ClickHouse ${a.status}: ${a.body.trim()} (query: ${sql})`);
  return a.body;
}

/** Starts replica `o.name`; resolves once it answers queries. The caller stops it. */
export async function startClickHouse(o: ClickHouseOptions): Promise<ClickHouseServer> {
  const dir = path.join(o.parentDir, o.name);
  fs.mkdirSync(dir, { recursive: true });
  const [http, interserver] = (await freePorts(2)) as [number, number];
  const tcp = o.tcpPort ?? (await freePorts(1))[0]!;
  const configFile = path.join(dir, 'config.xml');
  fs.writeFileSync(configFile, configXml(dir, o, http, tcp, interserver));
  fs.writeFileSync(path.join(dir, 'users.xml'), USERS_XML);
  const query = (sql: string, settings?: Record<string, string | number>): Promise<string> => post(http, sql, settings);
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess(CLICKHOUSE_BIN, [`--config-file=${configFile}`], { name: `clickhouse-${o.name}` });
    await pollUntil(`clickhouse-${o.name} answers queries`, async () => {
      if (proc.exited) throw proc.failure('exited before answering queries');
      return (await query('SELECT 1').catch(() => '')) === '1\n' ? true : undefined;
    }, START_TIMEOUT_MS, 100);
    return proc;
  };
  let proc = await launch();
  return {
    name: o.name,
    tcpPort: tcp,
    get process() {
      return proc;
    },
    query,
    kill: async () => {
      proc.signal('SIGKILL');
      await proc.waitForExit(10_000);
    },
    restart: async () => {
      proc = await launch();
    },
    stop: async () => void (await proc.stop(15_000)),
  };
}

/** The sorted child names of a znode (one per line), read through ClickHouse's `system.zookeeper`. */
export function znodeChildren(ch: ClickHouseServer, path: string): Promise<string> {
  return ch.query(`SELECT name FROM system.zookeeper WHERE path = '${path}' ORDER BY name`);
}

/**
 * Brings each replica of `table` up to the shared log as the replicas see it now: waits until
 * every one has copied the newest entry any of them sees (a writer sees its own through its
 * server) into its queue, then `SYSTEM SYNC REPLICA`. In 18.16 that command only waits for the
 * queue to empty, so right after an insert on another replica it can return before this one has
 * even heard of it: the watch notification comes a moment later, on ZooKeeper as on Coracle.
 * The log must hold at least one entry.
 */
export async function syncReplicas(replicas: readonly ClickHouseServer[], table = 't'): Promise<void> {
  let newest = 0;
  for (const r of replicas) newest = Math.max(newest, Number(await r.query(`SELECT log_max_index FROM system.replicas WHERE table = '${table}'`)));
  for (const r of replicas) {
    await queryUntil(r, `${table}'s log up to entry ${newest} copied to the queue`, `SELECT log_pointer > ${newest} FROM system.replicas WHERE table = '${table}'`, '1\n');
    await r.query(`SYSTEM SYNC REPLICA ${table}`);
  }
}

/** Polls `sql` on `r` until it returns `want`; rejects after `timeoutMs`. */
export function queryUntil(r: ClickHouseServer, what: string, sql: string, want: string, timeoutMs = 30_000): Promise<true> {
  return pollUntil(`${r.name}: ${what}`, async () => ((await r.query(sql)) === want ? true : undefined), timeoutMs, 100);
}

/** The replica that currently leads `table`'s replicas (merges are assigned by the leader). */
function leaderReplica(replicas: readonly ClickHouseServer[], table = 't'): Promise<ClickHouseServer> {
  return pollUntil(`a leader replica of ${table}`, async () => {
    for (const r of replicas) if ((await r.query(`SELECT is_leader FROM system.replicas WHERE table = '${table}'`)) === '1\n') return r;
    return undefined;
  }, 30_000, 100);
}

/**
 * Merges every partition of `table` into one part: OPTIMIZE FINAL on the leader, then waits
 * until each replica holds `partitions` active parts. (ClickHouse 18.16 refuses OPTIMIZE FINAL
 * after a quorum insert, "Unknown log entry type: 0", on ZooKeeper 3.8 too: merge before those.)
 */
export async function mergeFinal(replicas: readonly ClickHouseServer[], table: string, partitions: number): Promise<void> {
  await (await leaderReplica(replicas, table)).query(`OPTIMIZE TABLE ${table} FINAL`);
  await syncReplicas(replicas, table);
  for (const r of replicas) await queryUntil(r, 'one part per partition', `SELECT count() FROM system.parts WHERE table = '${table}' AND active`, `${partitions}\n`);
}

/**
 * The active parts of `table`, `partition, min block, max block, data version` per line, which
 * must be the same on every replica: after {@link mergeFinal}, which block numbers the inserts
 * and mutations were given, whatever merges ClickHouse chose on its own before.
 */
export async function activeParts(replicas: readonly ClickHouseServer[], table: string): Promise<string> {
  const sql = `SELECT partition_id, min_block_number, max_block_number, data_version FROM system.parts WHERE table = '${table}' AND active ORDER BY partition_id`;
  const parts = await replicas[0]!.query(sql);
  for (const r of replicas) if ((await r.query(sql)) !== parts) throw new Error(`${r.name} holds other parts of ${table} than ${replicas[0]!.name}`);
  return parts;
}

/** Waits until `r` has fetched `n` mutations of `table` and finished them all. */
export function mutationsDone(r: ClickHouseServer, table: string, n: number): Promise<true> {
  return queryUntil(r, `${n} mutations of ${table} done`, `SELECT countIf(is_done = 1), count() FROM system.mutations WHERE table = '${table}'`, `${n}\t${n}\n`);
}

/** The names in a replicated table's log (`zkPath/log`); throws unless numbered 0, 1, 2… (%010d). */
export async function replicationLog(r: ClickHouseServer, zkPath: string): Promise<string[]> {
  const log = (await znodeChildren(r, `${zkPath}/log`)).split('\n').filter(Boolean);
  const want = log.map((_, i) => `log-${String(i).padStart(10, '0')}`);
  if (log.join() !== want.join()) throw new Error(`the replication log is not numbered 0, 1, 2…: ${log.join(' ')}`);
  return log;
}

/** `(row(from)),…,(row(to))`: a VALUES list of one row per id. */
export function valuesList(from: number, to: number, row: (id: number) => string = String): string {
  return Array.from({ length: to - from + 1 }, (_, i) => `(${row(from + i)})`).join(',');
}

/**
 * Replicas `r1` and `r2` in `parentDir` (the same directories again when started again there).
 * With `cluster`, they are its two servers, on those native ports.
 */
export async function startReplicaPair(o: Omit<ClickHouseOptions, 'name' | 'tcpPort'>): Promise<ClickHouseServer[]> {
  const out: ClickHouseServer[] = [];
  try {
    for (const [i, name] of ['r1', 'r2'].entries()) out.push(await startClickHouse({ ...o, name, tcpPort: o.cluster?.[i] }));
  } catch (err) {
    for (const r of out) await r.stop();
    throw err;
  }
  return out;
}
