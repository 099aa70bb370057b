/**
 * The AdminServer's commands (ZooKeeper 3.5+ `/commands/<name>`; ZooKeeper 3.8's
 * admin/Commands): each a primary name with its aliases (the four-letter words among them),
 * answering a JSON object with the command's fields, then `command` (the primary name) and
 * `error` (null, or what went wrong). The values come from the same live counters as the
 * four-letter words, typed as ZooKeeper's Jackson output types them (ids as 64-bit numbers,
 * latencies averaged as doubles).
 *
 * `get_trace_mask` / `set_trace_mask` share the four-letter words' trace mask (trace-mask.ts);
 * `system_properties` answers the process facts a JVM's standard properties stand for
 * (system-properties.ts).
 */
import { KvServerRole } from '../backend/kv-backend';
import { FourLetterSource, REPORTED_VERSION, environmentRows, isDoubleRow, mntrRows } from './four-letter-words';
import { JsonDouble, JsonValue } from './jackson-json';
import { expiryBuckets, watchersByPath } from './dump-words';
import { ConnectionStats } from './connection-stats';
import { systemProperties } from './system-properties';

/** A command's fields, or the error it answers with (then it has no fields). */
export type AdminResult = { fields: Record<string, JsonValue> } | { error: string };

/** What a command reads: the live server, and the AdminServer's own settings for icfg. */
export interface AdminContext {
  src: FourLetterSource;
  /** `admin.serverAddress` / `admin.serverPort` / `admin.commandURL` as served. */
  admin: { host: string; port: number; commandUrl: string };
}

/** A request's query parameters, the first value of each (ZooKeeper's kwargs). */
export type AdminKwargs = ReadonlyMap<string, string>;

/** One command. */
export interface AdminCommand {
  /** The primary name first, then the aliases. */
  names: readonly string[];
  run(ctx: AdminContext, kwargs: AdminKwargs): AdminResult;
}

const ok = (fields: Record<string, JsonValue> = {}): AdminResult => ({ fields });

/** A 64-bit id as ZooKeeper prints a Java long. */
const long = (id: bigint): bigint => BigInt.asIntN(64, id);

/** Every command, in ZooKeeper's registration order. */
export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  { names: ['connection_stat_reset', 'crst'], run: ({ src }) => (src.resetConnectionStats(), ok()) },
  { names: ['configuration', 'conf', 'config'], run: ({ src }) => ok(configuration(src)) },
  { names: ['connections', 'cons'], run: ({ src }) => ok(connections(src.connections(), false)) },
  { names: ['dirs'], run: ({ src }) => dirs(src) },
  // Coracle keeps no ZooKeeper digest log (zookeeper.digest.enabled): no digests to list.
  { names: ['hash'], run: () => ok({ digests: [] }) },
  { names: ['dump'], run: ({ src }) => ok(dump(src)) },
  { names: ['environment', 'env', 'envi'], run: () => ok(Object.fromEntries(environmentRows())) },
  { names: ['get_trace_mask', 'gtmk'], run: ({ src }) => ok({ tracemask: src.traceMask.value }) },
  { names: ['initial_configuration', 'icfg'], run: (ctx) => ok({ initial_configuration: initialConfiguration(ctx) }) },
  { names: ['is_read_only', 'isro'], run: ({ src }) => ok({ read_only: src.role().mode === 'read-only' }) },
  // No ZooKeeper snapshot files: what ZooKeeper answers before its first snapshot is known.
  { names: ['last_snapshot', 'lsnp'], run: () => ok({ zxid: 'ffffffffffffffff', timestamp: -1 }) },
  { names: ['leader', 'lead'], run: ({ src }) => leader(src.role()) },
  { names: ['monitor', 'mntr'], run: ({ src }) => ok(monitor(src)) },
  { names: ['observer_connection_stat_reset', 'orst'], run: () => ok() },
  { names: ['ruok'], run: () => ok() },
  { names: ['set_trace_mask', 'stmk'], run: ({ src }, kwargs) => setTraceMask(src, kwargs.get('traceMask')) },
  { names: ['server_stats', 'srvr'], run: ({ src }) => ok(serverStats(src)) },
  { names: ['stats', 'stat'], run: ({ src }) => ok({ ...serverStats(src), ...connections(src.connections(), true) }) },
  { names: ['stat_reset', 'srst'], run: ({ src }) => (src.stats.reset(), ok()) },
  { names: ['observers', 'obsr'], run: () => ok({ synced_observers: 0, observers: [] }) },
  { names: ['system_properties', 'sysp'], run: () => ok(Object.fromEntries(systemProperties())) },
  { names: ['voting_view'], run: ({ src }) => ok({ current_config: votingView(src.role()) }) },
  { names: ['watches', 'wchc'], run: ({ src }) => ok({ session_id_to_watched_paths: bySession(src.dataWatchesBySession()) }) },
  { names: ['watches_by_path', 'wchp'], run: ({ src }) => ok({ path_to_session_ids: byPath(src) }) },
  { names: ['watch_summary', 'wchs'], run: ({ src }) => ok(watchSummary(src)) },
  { names: ['zabstate'], run: ({ src }) => ok(zabState(src.role())) },
];

const BY_NAME = new Map(ADMIN_COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

/** The command called `name` (primary or alias; case-sensitive, as ZooKeeper's), if any. */
export function adminCommand(name: string): AdminCommand | undefined {
  return BY_NAME.get(name);
}

/**
 * The response object for `name`: the fields, then `command` and `error` as ZooKeeper orders
 * them (a command's own error first; an unknown name's after the command).
 */
export function runAdminCommand(name: string, ctx: AdminContext, kwargs: AdminKwargs = new Map()): Record<string, JsonValue> {
  const cmd = adminCommand(name);
  if (!cmd) return { command: name, error: `Unknown command: ${name}` };
  const primary = cmd.names[0]!;
  const r = cmd.run(ctx, kwargs);
  return 'error' in r ? { error: r.error, command: primary } : { ...r.fields, command: primary, error: null };
}

/** set_trace_mask: `traceMask` must be a Java long (Long.parseLong: an optional sign, decimal digits). */
function setTraceMask(src: FourLetterSource, text: string | undefined): AdminResult {
  const usage = 'setTraceMask requires long traceMask argument';
  if (text === undefined) return { error: usage };
  const mask = /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined;
  if (mask === undefined || BigInt.asIntN(64, mask) !== mask) return { error: `${usage}, got ${text}` };
  src.traceMask.set(mask);
  return ok({ tracemask: mask });
}

/** The sizes of the data and log directories; over etcd there are none here. */
function dirs(src: FourLetterSource): AdminResult {
  const d = src.storage();
  if (!d) return { error: 'no data directory here: zk-proxy keeps the data in its etcd cluster' };
  return ok({ datadir_size: d.dataBytes, logdir_size: d.logBytes });
}

function configuration(src: FourLetterSource): Record<string, JsonValue> {
  const c = src.config();
  const d = src.storage();
  return {
    client_port: c.clientPort ?? -1, data_dir: d?.dataDir ?? 'coracle', data_log_dir: d?.logDir ?? 'coracle', tick_time: c.tickTime,
    max_client_cnxns: c.maxClientCnxns, min_session_timeout: c.minSessionTimeout, max_session_timeout: c.maxSessionTimeout,
    server_id: 0, client_port_listen_backlog: -1,
  };
}

/** ServerCnxn.getConnectionInfo: the brief form (stat) stops after the packet counters. */
function connectionInfo(c: ConnectionStats, brief: boolean): Record<string, JsonValue> {
  // interest_ops as Java NIO's: 1 (OP_READ) while the connection reads, 0 while back-pressure pauses it.
  const base = { remote_socket_address: c.remote, interest_ops: c.reading ? 1 : 0, outstanding_requests: c.queued, packets_received: c.received, packets_sent: c.sent };
  if (brief || c.sessionId === 0n) return base;
  return {
    ...base, session_id: long(c.sessionId), last_operation: c.lastOp, established: c.established, session_timeout: c.timeoutMs,
    last_cxid: c.lastCxid, last_zxid: c.lastZxid, last_response_time: c.lastResponse, last_latency: c.lastLat,
    min_latency: c.minLat, avg_latency: c.countLat === 0 ? 0 : Math.round(c.totalLat / c.countLat), max_latency: c.maxLat,
  };
}

function connections(all: ConnectionStats[], brief: boolean): Record<string, JsonValue> {
  return {
    connections: all.filter((c) => !c.secure).map((c) => connectionInfo(c, brief)),
    secure_connections: all.filter((c) => c.secure).map((c) => connectionInfo(c, brief)),
  };
}

function serverStats(src: FourLetterSource): Record<string, JsonValue> {
  const s = src.stats;
  const response = { last_buffer_size: s.lastResponseSize, min_buffer_size: s.minResponseSize, max_buffer_size: s.maxResponseSize };
  return {
    version: REPORTED_VERSION, read_only: src.role().mode === 'read-only',
    server_stats: {
      packets_sent: s.packetsSent, packets_received: s.packetsReceived, client_response_stats: response,
      server_state: src.role().mode, last_processed_zxid: src.zxid(), outstanding_requests: s.outstanding,
      avg_latency: new JsonDouble(s.avgLatency()), max_latency: s.maxLatency, min_latency: s.minLatency,
      num_alive_client_connections: src.connections().length, uptime: Date.now() - s.startedAt,
    },
    client_response: response,
    node_count: src.nodeCount(),
  };
}

function monitor(src: FourLetterSource): Record<string, JsonValue> {
  const fields: Record<string, JsonValue> = {};
  for (const [k, v] of mntrRows(src)) fields[k] = isDoubleRow(k) ? new JsonDouble(Number(v)) : v;
  return fields;
}

/** Sessions by deadline (ms since the epoch, rounded up to a tick) and ephemerals by session. */
function dump(src: FourLetterSource): Record<string, JsonValue> {
  const expiry = Object.fromEntries([...expiryBuckets(src)].map(([at, ids]) => [String(at), ids.map(long)]));
  return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: bySession(src.ephemeralsBySession()) };
}

function bySession(m: Map<bigint, string[]>): Record<string, JsonValue> {
  return Object.fromEntries([...m].map(([id, paths]) => [String(long(id)), [...paths].sort()]));
}

function byPath(src: FourLetterSource): Record<string, JsonValue> {
  const sorted = [...watchersByPath(src)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(sorted.map(([path, ids]) => [path, ids.map(long)]));
}

function watchSummary(src: FourLetterSource): Record<string, JsonValue> {
  const w = src.watchSummary();
  return { num_connections: w.connections, num_paths: w.paths, num_total_watches: w.watches };
}

/** What the front end was started with, as the zoo.cfg lines that would say it. */
function initialConfiguration({ src, admin }: AdminContext): string {
  const c = src.config();
  const lines = [
    `tickTime=${c.tickTime}`,
    ...(c.clientPort !== undefined ? [`clientPort=${c.clientPort}`] : []),
    ...(c.secureClientPort !== undefined ? [`secureClientPort=${c.secureClientPort}`] : []),
    `minSessionTimeout=${c.minSessionTimeout}`, `maxSessionTimeout=${c.maxSessionTimeout}`, `maxClientCnxns=${c.maxClientCnxns}`,
    'admin.enableServer=true', `admin.serverAddress=${admin.host}`, `admin.serverPort=${admin.port}`, `admin.commandURL=${admin.commandUrl}`,
  ];
  return lines.map((l) => `${l}\n`).join('');
}

const inCluster = (role: KvServerRole): boolean => role.mode === 'leader' || role.mode === 'follower';

/** A quorum member's leader; a standalone or read-only server has none (ZooKeeper's wording). */
function leader(role: KvServerRole): AdminResult {
  if (!inCluster(role)) return { error: 'server is not initialized' };
  const lead = role.members?.find((m) => m.id === role.leaderId);
  return ok({ is_leader: role.mode === 'leader', leader_id: role.leaderId ?? 0n, leader_ip: lead ? hostOf(lead.peerUrl) : '' });
}

/** Voting members by id, as `host:peerPort:participant` (ZooKeeper: host:quorumPort:electionPort:participant). */
function votingView(role: KvServerRole): Record<string, JsonValue> {
  if (!inCluster(role)) return {};
  const voters = (role.members ?? []).filter((m) => m.voter).sort((a, b) => (a.id < b.id ? -1 : 1));
  return Object.fromEntries(voters.map((m) => [m.id.toString(), `${hostPortOf(m.peerUrl)}:participant`]));
}

/** Raft has no Zab phases: a member that knows a leader broadcasts, one that does not elects. */
function zabState(role: KvServerRole): Record<string, JsonValue> {
  if (!inCluster(role)) return { voting: false, zabstate: '' };
  const voting = role.members?.find((m) => m.id === role.memberId)?.voter ?? false;
  return { voting, zabstate: role.leaderId ? 'broadcast' : 'election' };
}

function hostPortOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}
