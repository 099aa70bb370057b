/**
 * A real Apache ZooKeeper 3.8 ensemble of three servers on 127.0.0.1, for the cluster benchmark
 * and the differential tests that need a quorum: fresh data dirs, free ports, forceSync=yes, each
 * server in its own JVM (QuorumPeerMain). `startZkEnsemble` returns once one server reports
 * `Mode: leader` and the others `Mode: follower` (4lw `srvr`). A single server can be stopped
 * and started again on its own config and data dir ({@link ZkEnsemble.stopServer},
 * {@link ZkEnsemble.startServer}); `stop` ends every JVM it started and removes the dirs.
 *
 * With {@link ZkEnsembleOptions.readOnlyMode} each JVM runs with
 * `-Dreadonlymode.enabled=true`: a server that has looked for a leader for max(2000, tickTime)
 * ms serves read-only clients (ReadOnlyZooKeeperServer) until it rejoins a quorum. A 3.8
 * read-only server answers a global createSession with NOTREADONLY (ReadOnlyRequestProcessor),
 * so read-only mode needs `localSessionsEnabled=true` too (documented by apache/zookeeper#1922):
 * without it no new client gets a session. `localSessionsUpgradingEnabled=true` keeps ephemerals
 * working while healthy (a local session is made global by its first ephemeral).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { javaPath } from './peers';
import { pollUntil } from './poll';
import { freePorts, releasePorts } from './ports';
import { ManagedProcess, startProcess } from './process';
import { createTempDir, removeTempDir } from './temp-dir';
import { fourLetterWord, zookeeperClasspath } from './zookeeper-peer';

const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
/** Bounds the wait for a leader and two followers (three JVMs starting on two cores). */
const QUORUM_TIMEOUT_MS = 60_000;
const SERVERS = 3;

/** Options of {@link startZkEnsemble}. */
export interface ZkEnsembleOptions {
  /** Run every server with `-Dreadonlymode.enabled=true` and local sessions (upgraded on an ephemeral) (default false). */
  readOnlyMode?: boolean;
  /** zoo.cfg tickTime in ms (default 2000). */
  tickTime?: number;
}

/** A running ensemble. */
export interface ZkEnsemble {
  /** Client port of each server. */
  readonly clientPorts: readonly number[];
  /** Pid of each server's current JVM (a restarted server has a new one). */
  readonly pids: readonly number[];
  /** Index of the server that leads (as `srvr` reported at start). */
  readonly leader: number;
  /** Stops server `i`'s JVM (SIGTERM, SIGKILL after a grace); its config and data stay. */
  stopServer(i: number): Promise<void>;
  /** Starts server `i` again on its config and data dir (does not wait for it to serve). */
  startServer(i: number): void;
  /** Stops every JVM, frees the ports and removes the dirs. */
  stop(): Promise<void>;
}

function serverCfg(dataDir: string, clientPort: number, quorum: readonly string[], options: ZkEnsembleOptions): string {
  return [
    `tickTime=${options.tickTime ?? 2000}`, 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1', '4lw.commands.whitelist=*', 'admin.enableServer=false', 'forceSync=yes',
    // All load comes from 127.0.0.1 (maxClientCnxns is per address).
    'maxClientCnxns=0',
    // A session made on a learner stays local until it creates an ephemeral, which upgrades it.
    ...(options.readOnlyMode ? ['localSessionsEnabled=true', 'localSessionsUpgradingEnabled=true'] : []),
    ...quorum,
  ].join('\n') + '\n';
}

/** The mode `srvr` reports for the server on 127.0.0.1:`port` (leader, follower, read-only, …), or undefined. */
export async function zkServerMode(port: number): Promise<string | undefined> {
  const srvr = await fourLetterWord('127.0.0.1', port, 'srvr', 1000).catch(() => '');
  return /Mode: ([\w-]+)/.exec(srvr)?.[1];
}

/** Starts three servers and waits for the quorum. Throws (after cleaning up) when none forms. */
export async function startZkEnsemble(options: ZkEnsembleOptions = {}): Promise<ZkEnsemble> {
  const java = javaPath();
  if (!java) throw new Error('java not found; run scripts/install-peers.sh');
  const root = createTempDir('coracle-zk-ensemble-');
  const ports = await freePorts(3 * SERVERS);
  const ids = [...Array(SERVERS).keys()];
  const clientPorts = ids.map((i) => ports[3 * i]!);
  const quorum = ids.map((i) => `server.${i + 1}=127.0.0.1:${ports[3 * i + 1]}:${ports[3 * i + 2]}`);
  const classpath = zookeeperClasspath().join(':');
  const jvmFlags = ['-XX:-UsePerfData', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', ...(options.readOnlyMode ? ['-Dreadonlymode.enabled=true'] : [])];
  const cfgs: string[] = [];
  const procs: Array<ManagedProcess | undefined> = [];
  const launch = (i: number): ManagedProcess => {
    const p = startProcess(java, [...jvmFlags, '-cp', classpath, MAIN_CLASS, cfgs[i]!], { name: `zookeeper-ensemble:${clientPorts[i]}`, cwd: root });
    procs[i] = p;
    return p;
  };
  const stopServer = async (i: number): Promise<void> => {
    await procs[i]?.stop();
  };
  const stop = async (): Promise<void> => {
    await Promise.all(ids.map(stopServer));
    releasePorts(ports);
    removeTempDir(root);
  };
  try {
    for (const i of ids) {
      const dataDir = path.join(root, `z${i + 1}`);
      fs.mkdirSync(dataDir);
      fs.writeFileSync(path.join(dataDir, 'myid'), `${i + 1}\n`);
      cfgs[i] = path.join(root, `z${i + 1}.cfg`);
      fs.writeFileSync(cfgs[i]!, serverCfg(dataDir, clientPorts[i]!, quorum, options));
      launch(i);
    }
    const leader = await pollUntil('a ZooKeeper ensemble with one leader and two followers', async () => {
      const dead = procs.find((p) => p?.exited);
      if (dead) throw dead.failure('exited during startup');
      const modes = await Promise.all(clientPorts.map(zkServerMode));
      const lead = modes.indexOf('leader');
      return lead >= 0 && modes.filter((m) => m === 'follower').length === SERVERS - 1 ? lead : undefined;
    }, QUORUM_TIMEOUT_MS, 200);
    return {
      clientPorts,
      get pids() {
        return procs.map((p) => p!.pid);
      },
      leader,
      stopServer,
      startServer: (i) => {
        if (procs[i] && !procs[i]!.exited) throw new Error(`ZooKeeper server ${i + 1} is running`);
        launch(i);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
