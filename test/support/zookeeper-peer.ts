/**
 * A real Apache ZooKeeper (Debian's 3.8) started standalone for one test, without systemd or
 * zkServer.sh: `java -cp <jars> org.apache.zookeeper.server.ZooKeeperServerMain <zoo.cfg>` with
 * a zoo.cfg of our own (127.0.0.1 only, fresh port and data dir, every four-letter word allowed,
 * no admin HTTP server, fsync on). Ready when `ruok` answers `imok` and `srvr` reports the
 * version (see {@link waitServing}), polled in a bounded loop.
 *
 * The classpath is built from the jars that exist in /usr/share/java (see {@link zookeeperClasspath}).
 * Debian's zookeeper.jar also names its dependencies in its manifest Class-Path, so the explicit
 * list is belt and braces for other layouts, plus an SLF4J binding (slf4j-simple, to stderr) so
 * the server's log lands in the process's output ring instead of SLF4J's no-op logger.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as path from 'node:path';
import { JAVA_LIB_DIR, javaPath } from './peers';
import { freePort, releasePorts, retryOnPortRace } from './ports';
import { pollUntil } from './poll';
import { startProcess, type ManagedProcess } from './process';
import { createTempDir, removeTempDir } from './temp-dir';

/** ZooKeeper's runtime dependencies (3.8 pom, minus the admin server's Jetty which we disable). */
const DEPENDENCY_JARS = [
  'zookeeper-jute',
  'slf4j-api',
  'commons-cli',
  'commons-io',
  'jackson-annotations',
  'jackson-core',
  'jackson-databind',
  'metrics-core',
  'snappy-java',
  'jline',
  'audience-annotations',
  'netty-buffer',
  'netty-codec',
  'netty-common',
  'netty-handler',
  'netty-resolver',
  'netty-transport',
  'netty-transport-native-epoll',
  'netty-transport-native-unix-common',
];
/** The AdminServer's Jetty and servlet jars (Debian's libjetty9-java, a dependency of libzookeeper-java). */
const ADMIN_SERVER_JARS = ['jetty9-server', 'jetty9-servlet', 'jetty9-http', 'jetty9-io', 'jetty9-util', 'jetty9-security', 'servlet-api'];

/** The AdminServer jars found in `dir`; throws naming the missing ones. */
function adminServerClasspath(dir = JAVA_LIB_DIR): string[] {
  const files = fs.readdirSync(dir);
  const found = ADMIN_SERVER_JARS.map((b) => [b, findJar(dir, b, files)] as const);
  const missing = found.filter(([, j]) => !j).map(([b]) => b);
  if (missing.length > 0) throw new Error(`ZooKeeper AdminServer jars not found in ${dir}: ${missing.join(', ')}; run scripts/install-peers.sh (libjetty9-java)`);
  return found.map(([, j]) => j!);
}

/** SLF4J bindings in order of preference; the first found is used. */
const LOG_BINDINGS = ['slf4j-simple'];

const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';

/**
 * `dir/<base>.jar` if present (Debian's unversioned links), else the highest-sorting
 * `dir/<base>-<version>.jar` (upstream tarball layout), else undefined.
 */
function findJar(dir: string, base: string, files: readonly string[]): string | undefined {
  if (files.includes(`${base}.jar`)) return path.join(dir, `${base}.jar`);
  const versioned = new RegExp(`^${base.replace(/[.-]/g, '\\$&')}-\\d[\\w.-]*\\.jar$`);
  const hits = files.filter((f) => versioned.test(f)).sort();
  return hits.length > 0 ? path.join(dir, hits[hits.length - 1] as string) : undefined;
}

/**
 * The classpath for ZooKeeperServerMain from the jars present in `dir`: zookeeper.jar first,
 * then each dependency that exists, then one SLF4J binding. Throws if zookeeper.jar or
 * zookeeper-jute.jar is missing.
 */
export function zookeeperClasspath(dir = JAVA_LIB_DIR): string[] {
  const files = fs.readdirSync(dir);
  const main = findJar(dir, 'zookeeper', files);
  const jute = findJar(dir, 'zookeeper-jute', files);
  if (!main || !jute) throw new Error(`ZooKeeper jars not found in ${dir}; run scripts/install-peers.sh`);
  const deps = DEPENDENCY_JARS.map((b) => findJar(dir, b, files)).filter((j): j is string => j !== undefined);
  const binding = LOG_BINDINGS.map((b) => findJar(dir, b, files)).find((j) => j !== undefined);
  return [main, ...deps, ...(binding ? [binding] : [])];
}

/**
 * Send a four-letter word (`ruok`, `srvr`, `mntr`, `stat`, …) to a ZooKeeper-protocol server and
 * return its whole text answer (the server closes the connection after answering); over TLS
 * (a secure client port) when `tlsOptions` is given. Bytes go as given (stmk with its 8-byte
 * mask); a list of parts is written 50 ms apart, to send one word in several TCP segments.
 */
export function fourLetterWord(host: string, port: number, word: string | Buffer | readonly Buffer[], timeoutMs = 5000, tlsOptions?: tls.ConnectionOptions): Promise<string> {
  const parts = Array.isArray(word) ? (word as readonly Buffer[]) : [word as string | Buffer];
  const label = typeof word === 'string' ? word : Buffer.concat(parts.map((p) => Buffer.from(p))).subarray(0, 4).toString('latin1');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = tlsOptions ? tls.connect({ ...tlsOptions, host, port }) : net.connect({ host, port });
    const timer = setTimeout(() => sock.destroy(new Error(`${label} to ${host}:${port}: timeout after ${timeoutMs} ms`)), timeoutMs);
    sock.on(tlsOptions ? 'secureConnect' : 'connect', () => {
      parts.forEach((p, i) => setTimeout(() => (i === parts.length - 1 ? sock.end(p) : sock.write(p)), i * 50));
    });
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Whether a ZooKeeper-protocol server on 127.0.0.1:`port` answers `ruok` with `imok` now (false when it refuses or stays silent). */
export async function answersRuok(port: number, timeoutMs = 1000): Promise<boolean> {
  return (await fourLetterWord('127.0.0.1', port, 'ruok', timeoutMs).catch(() => '')) === 'imok';
}

/** Options for {@link startZookeeper}. */
export interface ZookeeperOptions {
  /** Extra zoo.cfg lines, e.g. `{ maxClientCnxns: 0, minSessionTimeout: 4000 }`; override ours. */
  config?: Record<string, string | number>;
  /** Extra JVM flags (e.g. `['-Xmx512m']`). */
  jvmArgs?: string[];
  /** slf4j-simple level: trace, debug, info (default), warn, error. */
  logLevel?: string;
  /** Bound on waiting until it serves (default 30 s). */
  startTimeoutMs?: number;
  /** Serve the AdminServer (HTTP /commands) on 127.0.0.1 at a free port, `adminPort`. */
  adminServer?: boolean;
}

/** A running standalone ZooKeeper owned by the test. */
export interface ZookeeperPeer {
  host: '127.0.0.1';
  port: number;
  /** `127.0.0.1:<port>`, the connect string for clients. */
  connectString: string;
  dataDir: string;
  /** The AdminServer's port, when started with `adminServer`. */
  adminPort?: number;
  /** Server version from `srvr`, e.g. `3.8.0`. */
  version: string;
  /** Milliseconds from spawn to serving. */
  startupMs: number;
  process: ManagedProcess;
  /** Kill the server (SIGKILL: a crash). */
  kill(): Promise<void>;
  /** Start it again on the same port and data dir; waits until it serves. */
  restart(): Promise<void>;
  /** Stop (SIGTERM, then SIGKILL after a grace), free the port, remove the data. */
  stop(): Promise<void>;
}

function zooCfg(dataDir: string, port: number, extra: Record<string, string | number>): string {
  const cfg: Record<string, string | number> = {
    tickTime: 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: '127.0.0.1',
    '4lw.commands.whitelist': '*',
    'admin.enableServer': 'false',
    forceSync: 'yes',
    ...extra,
  };
  return `${Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

/**
 * Wait until the server answers `ruok` with `imok` AND `srvr` with its version; returns the
 * version. Both, because `imok` only means "the process is up": until the database is loaded
 * `srvr` says "This ZooKeeper instance is not currently serving requests".
 */
async function waitServing(proc: ManagedProcess, port: number, timeoutMs: number): Promise<string> {
  return pollUntil(
    `zookeeper on 127.0.0.1:${port}`,
    async () => {
      if (proc.exited) throw proc.failure('exited during startup');
      if ((await fourLetterWord('127.0.0.1', port, 'ruok', 1000)) !== 'imok') return undefined;
      const srvr = await fourLetterWord('127.0.0.1', port, 'srvr', 1000);
      return /Zookeeper version: ([\w.]+)/.exec(srvr)?.[1];
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw proc.exited ? err : proc.failure(err.message);
  });
}

async function startOnce(opts: ZookeeperOptions): Promise<ZookeeperPeer> {
  const java = javaPath();
  if (!java) throw new Error('java not found; run scripts/install-peers.sh');
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const root = createTempDir('coracle-zk-');
  const port = await freePort();
  const adminPort = opts.adminServer ? await freePort() : undefined;
  const admin: Record<string, string | number> = adminPort === undefined ? {} : { 'admin.enableServer': 'true', 'admin.serverAddress': '127.0.0.1', 'admin.serverPort': adminPort };
  const dataDir = path.join(root, 'data');
  const cfgFile = path.join(root, 'zoo.cfg');
  fs.mkdirSync(dataDir);
  fs.writeFileSync(cfgFile, zooCfg(dataDir, port, { ...admin, ...opts.config }));
  const args = [
    // No hsperfdata files in /tmp (they outlive a SIGKILLed JVM).
    '-XX:-UsePerfData',
    `-Dorg.slf4j.simpleLogger.defaultLogLevel=${opts.logLevel ?? 'info'}`,
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    ...(opts.jvmArgs ?? []),
    '-cp',
    [...zookeeperClasspath(), ...(opts.adminServer ? adminServerClasspath() : [])].join(':'),
    MAIN_CLASS,
    cfgFile,
  ];
  const spawnServer = (): ManagedProcess => startProcess(java, args, { name: `zookeeper:${port}`, cwd: root });
  const started = performance.now();
  let proc = spawnServer();
  const stop = async (): Promise<void> => {
    await proc.stop();
    releasePorts(adminPort === undefined ? [port] : [port, adminPort]);
    removeTempDir(root);
  };
  let version: string;
  try {
    version = await waitServing(proc, port, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  const peer: ZookeeperPeer = {
    host: '127.0.0.1',
    port,
    adminPort,
    connectString: `127.0.0.1:${port}`,
    dataDir,
    version,
    startupMs: performance.now() - started,
    process: proc,
    async kill() {
      proc.signal('SIGKILL');
      await proc.waitForExit(10_000);
    },
    async restart() {
      await proc.stop();
      proc = spawnServer();
      peer.process = proc;
      await waitServing(proc, port, timeoutMs);
    },
    stop,
  };
  return peer;
}

/**
 * Start a real standalone ZooKeeper on 127.0.0.1 and wait until it serves. The caller must
 * `await peer.stop()`; if it does not, the process-exit handler kills it and removes the data.
 */
export async function startZookeeper(opts: ZookeeperOptions = {}): Promise<ZookeeperPeer> {
  return retryOnPortRace(() => startOnce(opts));
}
