/**
 * Four-letter words (FourLetterCommands; zk-protocol.md §1.14): a connection whose first four
 * bytes spell a known command gets a text answer and is closed; no framing either way. The
 * formats follow ZooKeeper 3.8 because monitoring tools parse them (`zkServer.sh status` reads
 * "Mode:", exporters read `mntr`'s tab-separated lines, health checks expect `imok`).
 */
import { hostname } from 'node:os';
import { KvServerRole, KvStorageDirs } from '../backend/kv-backend';
import { fileDescriptors } from './process-fds';
import { ConnectionStats } from './connection-stats';
import { ServerStats } from './server-stats';
import { dumpText, watchesByPathText, watchesBySessionText } from './dump-words';
import { javaDouble } from './java-double';
import { TraceMask } from '../trace-mask';

/** Every command ZooKeeper knows (unknown words are treated as a normal handshake). */
export const KNOWN_WORDS = ['conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srvr', 'srst', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash'];

/** The words we can answer; the rest get ZooKeeper's "not in the whitelist" text. */
export const ENABLED_WORDS = new Set(['ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'envi', 'wchs', 'wchc', 'wchp', 'dump', 'dirs', 'isro', 'srst', 'crst', 'gtmk', 'stmk']);

const CODES = new Map<number, string>(KNOWN_WORDS.map((w) => [Buffer.from(w, 'ascii').readInt32BE(0), w]));

/**
 * The words an operator allows (ZooKeeper's `4lw.commands.whitelist`): `*` for every word we
 * answer, else a comma-separated list. A name ZooKeeper does not know is an error (a typo would
 * otherwise switch a word off unnoticed); the one known word we do not answer (hash) stays
 * off.
 */
export function parseFourLetterWhitelist(text: string): ReadonlySet<string> {
  if (text.trim() === '*') return ENABLED_WORDS;
  const words = text.split(',').map((w) => w.trim()).filter((w) => w !== '');
  const unknown = words.filter((w) => !KNOWN_WORDS.includes(w));
  if (unknown.length > 0) throw new Error(`unknown four-letter word(s) ${unknown.join(', ')} (known: ${KNOWN_WORDS.join(', ')}, or * for all)`);
  return new Set(words.filter((w) => ENABLED_WORDS.has(w)));
}

/**
 * Bytes that follow `word` on the wire before it is answered: stmk carries the new trace mask as
 * a big-endian 64-bit integer (ZooKeeper reads it right after the word); the others none.
 */
export function wordArgumentBytes(word: string): number {
  return word === 'stmk' ? 8 : 0;
}

/** The word whose ASCII code is `code` (the first 4 bytes read as an int), if any. */
export function fourLetterWord(code: number): string | undefined {
  return CODES.get(code);
}

/** The version we report: a ZooKeeper version tools accept, marked as ours. */
export const REPORTED_VERSION = '3.8.0-coracle-0.1.0, built on 2026-01-01 00:00 UTC';

/** What the words need to know about the server. */
export interface FourLetterSource {
  /**
   * The words answered on the client port: {@link ENABLED_WORDS} or a part of it
   * ({@link parseFourLetterWhitelist}); the AdminServer ignores it, as ZooKeeper's does.
   */
  allowedWords: ReadonlySet<string>;
  /** gtmk/stmk: the front end's trace mask (shared with its logging decorator). */
  traceMask: TraceMask;
  stats: ServerStats;
  connections(): ConnectionStats[];
  /** The last zxid as clients see it (the revision plus the zxid base). */
  zxid(): number;
  nodeCount(): number;
  /** wchs: ZooKeeper's summary of its data-watch table. */
  watchSummary(): { watches: number; paths: number; connections: number };
  /** mntr zk_watch_count: data and child watches. */
  watchCount(): number;
  ephemerals(): number;
  dataSize(): number;
  /** Write attempts that lost a guard race and were re-planned. */
  writeConflicts(): number;
  config(): { clientPort: number | undefined; secureClientPort: number | undefined; tickTime: number; minSessionTimeout: number; maxSessionTimeout: number; maxClientCnxns: number };
  /** Standalone, leader, follower or read-only, and the leader's replication (server-role.ts). */
  role(): KvServerRole;
  /** crst: zero every connection's counters (ZooKeeper's resetAllConnectionStats). */
  resetConnectionStats(): void;
  /** The data-table paths each session's connection watches (ZooKeeper's wchc). */
  dataWatchesBySession(): Map<bigint, string[]>;
  /** The live sessions this server tracks, with their deadlines in ms since the epoch. */
  sessionExpiries(): { id: bigint; expiresAt: number }[];
  /** The ephemeral paths of each session that owns some. */
  ephemeralsBySession(): Map<bigint, string[]>;
  /** This server's data and log directories with their sizes; undefined when the store is elsewhere (etcd). */
  storage(): KvStorageDirs | undefined;
}

/**
 * The text answer to `word`; `argument` is what followed it on the wire ({@link
 * wordArgumentBytes}: stmk's new mask, which it sets and echoes, as ZooKeeper does).
 */
export function answerFourLetterWord(word: string, src: FourLetterSource, argument?: Buffer): string {
  // dirs has nothing to report where the data lives in another store (zk-proxy over etcd).
  if (!src.allowedWords.has(word) || (word === 'dirs' && !src.storage())) return `${word} is not executed because it is not in the whitelist.\n`;
  switch (word) {
    case 'ruok': return 'imok';
    case 'isro': return src.role().mode === 'read-only' ? 'ro' : 'rw';
    case 'srvr': return srvr(src, false);
    case 'stat': return srvr(src, true);
    case 'mntr': return mntr(src);
    case 'conf': return conf(src);
    case 'cons': return cons(src);
    case 'envi': return envi();
    case 'wchs': {
      const w = src.watchSummary();
      return `${w.connections} connections watching ${w.paths} paths\nTotal watches:${w.watches}\n`;
    }
    case 'wchc': return watchesBySessionText(src);
    case 'wchp': return watchesByPathText(src);
    case 'dump': return dumpText(src);
    case 'dirs': {
      const d = src.storage()!;
      return `datadir_size: ${d.dataBytes}\nlogdir_size: ${d.logBytes}\n`;
    }
    case 'srst': src.stats.reset(); return 'Server stats reset.\n';
    case 'crst': src.resetConnectionStats(); return 'Connection stats reset.\n';
    // Java's print(long): decimal, signed, no newline.
    case 'gtmk': return `${src.traceMask.value}`;
    case 'stmk': {
      if (argument?.length !== 8) return '';
      src.traceMask.set(argument.readBigInt64BE(0));
      return `${src.traceMask.value}`;
    }
    default: return '';
  }
}

function srvr(src: FourLetterSource, withClients: boolean): string {
  const s = src.stats;
  let out = `Zookeeper version: ${REPORTED_VERSION}\n`;
  if (withClients) {
    out += 'Clients:\n';
    for (const c of src.connections()) out += ` ${connLine(c, true)}\n`;
    out += '\n';
  }
  out += `Latency min/avg/max: ${s.minLatency}/${javaDouble(s.avgLatency())}/${s.maxLatency}\n`;
  out += `Received: ${s.packetsReceived}\nSent: ${s.packetsSent}\nConnections: ${src.connections().length}\n`;
  out += `Outstanding: ${s.outstanding}\nZxid: 0x${src.zxid().toString(16)}\nMode: ${src.role().mode}\nNode count: ${src.nodeCount()}\n`;
  return out;
}

/** A connection as ZooKeeper's ServerCnxn.dumpConnectionInfo prints it (hex as Java's Long.toHexString: -1 is ffffffffffffffff). */
function connLine(c: ConnectionStats, brief: boolean): string {
  // [interest ops]: 1 (OP_READ) while reading, 0 while paused or answering a four-letter word.
  const base = `/${c.remote}[${c.reading ? 1 : 0}](queued=${c.queued},recved=${c.received},sent=${c.sent}`;
  // No session yet (a handshake, a four-letter word): ZooKeeper stops after the counters.
  if (brief || c.sessionId === 0n) return `${base})`;
  const avg = c.countLat === 0 ? 0 : Math.round(c.totalLat / c.countLat);
  return `${base},sid=0x${c.sessionId.toString(16)},lop=${c.lastOp},est=${c.established},to=${c.timeoutMs},` +
    `lcxid=0x${(c.lastCxid >>> 0).toString(16)},lzxid=0x${BigInt.asUintN(64, BigInt(c.lastZxid)).toString(16)},lresp=${c.lastResponse},` +
    `llat=${c.lastLat},minlat=${c.minLat},avglat=${avg},maxlat=${c.maxLat})`;
}

function cons(src: FourLetterSource): string {
  return src.connections().map((c) => ` ${connLine(c, false)}\n`).join('') + '\n';
}

/**
 * mntr's values, named without the `zk_` prefix the text adds (the AdminServer's monitor uses
 * these names); Coracle's own rows start with `coracle_`.
 */
export function monitorRows(src: FourLetterSource): [string, string | number][] {
  const s = src.stats;
  const role = src.role();
  return [
    ['version', REPORTED_VERSION], ['server_state', role.mode],
    ['avg_latency', s.avgLatency()], ['max_latency', s.maxLatency], ['min_latency', s.minLatency],
    ['packets_received', s.packetsReceived], ['packets_sent', s.packetsSent],
    ['num_alive_connections', src.connections().length], ['outstanding_requests', s.outstanding],
    ['znode_count', src.nodeCount()], ['watch_count', src.watchCount()], ['ephemerals_count', src.ephemerals()],
    ['approximate_data_size', src.dataSize()],
    ...fdRows(),
    ['uptime', Date.now() - s.startedAt],
    // No local sessions (ZooKeeper's localSessionsEnabled is off by default) and no random drops.
    ['global_sessions', src.sessionExpiries().length], ['local_sessions', 0], ['connection_drop_probability', 0],
    ['connection_rejected', s.connectionsRejected], ['bytes_received_count', s.bytesReceived],
    ['last_client_response_size', s.lastResponseSize], ['min_client_response_size', s.minResponseSize],
    ['max_client_response_size', s.maxResponseSize],
    ...roleRows(role),
    ['coracle_write_conflicts', src.writeConflicts()],
  ];
}

/**
 * What mntr and the AdminServer's `monitor` print: {@link monitorRows} and the request-latency
 * summaries since the last `srst` (ZooKeeper's default provider adds them to both).
 */
export function mntrRows(src: FourLetterSource): [string, string | number][] {
  return [...monitorRows(src), ...src.stats.latencyRows()];
}

/** Whether ZooKeeper prints the row `name` as a double (`0.0`): the averages and the drop chance. */
export function isDoubleRow(name: string): boolean {
  return name.startsWith('avg_') || name === 'connection_drop_probability';
}

function mntr(src: FourLetterSource): string {
  return mntrRows(src).map(([k, v]) => `${k.startsWith('coracle_') ? k : `zk_${k}`}\t${isDoubleRow(k) ? javaDouble(Number(v)) : v}\n`).join('');
}

/**
 * A quorum member's rows (QuorumZooKeeperServer: quorum_size; a leader's LeaderZooKeeperServer:
 * learners and how many of them are synced; Coracle has no pending syncs).
 */
function roleRows(role: KvServerRole): [string, number][] {
  // A read-only server is a plain ZooKeeperServer: no quorum rows.
  if (role.mode === 'standalone' || role.mode === 'read-only') return [];
  const rows: [string, number][] = [['quorum_size', role.quorumSize]];
  if (role.mode !== 'leader') return rows;
  return [
    ...rows, ['learners', role.learners], ['synced_followers', role.syncedFollowers],
    ['synced_non_voting_followers', role.syncedNonVoting], ['synced_observers', 0], ['pending_syncs', 0],
  ];
}

/** The descriptor lines, when the platform can tell (ZooKeeper prints them on Unix only). */
function fdRows(): [string, number][] {
  const fds = fileDescriptors();
  return fds ? [['open_file_descriptor_count', fds.open], ['max_file_descriptor_count', fds.max]] : [];
}

function conf(src: FourLetterSource): string {
  const c = src.config();
  // Over etcd the data is the cluster's: no directory of ours to name.
  const d = src.storage() ?? { dataDir: 'coracle', dataBytes: 0, logDir: 'coracle', logBytes: 0 };
  return `clientPort=${c.clientPort ?? -1}\nsecureClientPort=${c.secureClientPort ?? -1}\ndataDir=${d.dataDir}\ndataDirSize=${d.dataBytes}\n` +
    `dataLogDir=${d.logDir}\ndataLogSize=${d.logBytes}\ntickTime=${c.tickTime}\nmaxClientCnxns=${c.maxClientCnxns}\nminSessionTimeout=${c.minSessionTimeout}\n` +
    `maxSessionTimeout=${c.maxSessionTimeout}\nclientPortListenBacklog=-1\nserverId=0\n`;
}

/** envi's rows: ZooKeeper's Environment entries, filled with what a Node process has. */
export function environmentRows(): [string, string][] {
  return [
    ['zookeeper.version', REPORTED_VERSION], ['host.name', hostname()], ['java.version', `node ${process.version}`],
    ['java.vendor', 'coracle'], ['os.name', process.platform], ['os.arch', process.arch],
    ['user.dir', process.cwd()], ['os.memory.free', `${Math.round(process.memoryUsage().heapUsed / 1048576)}MB`],
  ];
}

function envi(): string {
  return 'Environment:\n' + environmentRows().map(([k, v]) => `${k}=${v}\n`).join('');
}
