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
import { request } from 'node:http';
import { CLICKHOUSE_BIN } from './peers';
import { freePorts } from './ports';
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

/** POSTs `sql` to the server's HTTP interface, `settings` in the URL. */
function post(port: number, sql: string, settings: Record<string, string | number> = {}): Promise<string> {
  const params = new URLSearchParams(Object.entries(settings).map(([k, v]) => [k, String(v)]));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/?${params}`, method: 'POST', timeout: QUERY_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`ClickHouse ${res.statusCode}: ${body.trim()} (query: ${sql})`))));
    });
    req.on('timeout', () => req.destroy(new Error(`ClickHouse query timed out: ${sql}`)));
    req.on('error', reject);
    req.end(sql);
  });
}

/** Starts replica `o.name`; resolves once it answers queries. The caller stops it. */
export async function startClickHouse(o: ClickHouseOptions): Promise<ClickHouseServer> {
  const dir = path.join(o.parentDir, o.name);
  fs.mkdirSync(dir, { recursive: true });
  const [http, interserver, tcp = o.tcpPort!] = (await freePorts(o.tcpPort === undefined ? 3 : 2)) as [number, number, number?];
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
export function leaderReplica(replicas: readonly ClickHouseServer[], table = 't'): Promise<ClickHouseServer> {
  return pollUntil(`a leader replica of ${table}`, async () => {
    for (const r of replicas) if ((await r.query(`SELECT is_leader FROM system.replicas WHERE table = '${table}'`)) === '1\n') return r;
    return undefined;
  }, 30_000, 100);
}

/**
 * OPTIMIZE FINAL of `table` on its leader. ClickHouse 18.16 sometimes refuses it with "Unknown
 * log entry type: 0" while merges it assigned itself are still running (on ZooKeeper 3.8 too):
 * retried for up to 30 s, the same on every store.
 */
export async function optimizeFinal(replicas: readonly ClickHouseServer[], table = 't'): Promise<void> {
  await pollUntil(`OPTIMIZE TABLE ${table} FINAL accepted`, async () => {
    try {
      await (await leaderReplica(replicas, table)).query(`OPTIMIZE TABLE ${table} FINAL`);
      return true;
    } catch (err) {
      if (!/Unknown log entry type/.test((err as Error).message)) throw err;
      return undefined;
    }
  }, 30_000, 500);
}
