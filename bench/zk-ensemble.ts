/**
 * A real Apache ZooKeeper 3.8 ensemble of three servers on 127.0.0.1, for the cluster
 * benchmark: fresh data dirs, free ports, forceSync=yes, each server in its own JVM
 * (QuorumPeerMain). `start` returns once one server reports `Mode: leader` and the others
 * `Mode: follower` (4lw `srvr`); `stop` ends the three JVMs it started and removes their dirs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { javaPath } from '../test/support/peers';
import { pollUntil } from '../test/support/poll';
import { freePorts, releasePorts } from '../test/support/ports';
import { ManagedProcess, startProcess } from '../test/support/process';
import { createTempDir, removeTempDir } from '../test/support/temp-dir';
import { fourLetterWord, zookeeperClasspath } from '../test/support/zookeeper-peer';

const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
/** Bounds the wait for a leader and two followers (three JVMs starting on two cores). */
const QUORUM_TIMEOUT_MS = 60_000;

/** A running ensemble. */
export interface ZkEnsemble {
  /** Client port of each server. */
  readonly clientPorts: readonly number[];
  /** Pid of each server's JVM. */
  readonly pids: readonly number[];
  /** Index of the server that leads (as `srvr` reported at start). */
  readonly leader: number;
  stop(): Promise<void>;
}

function serverCfg(dataDir: string, clientPort: number, quorum: readonly string[]): string {
  return [
    'tickTime=2000', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`, `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1', '4lw.commands.whitelist=*', 'admin.enableServer=false', 'forceSync=yes',
    // All load comes from 127.0.0.1 (maxClientCnxns is per address).
    'maxClientCnxns=0',
    ...quorum,
  ].join('\n') + '\n';
}

/** The mode `srvr` reports for the server on `port` (leader, follower, …), or undefined. */
async function modeOf(port: number): Promise<string | undefined> {
  const srvr = await fourLetterWord('127.0.0.1', port, 'srvr', 1000).catch(() => '');
  return /Mode: (\w+)/.exec(srvr)?.[1];
}

/** Starts three servers and waits for the quorum. Throws (after cleaning up) when none forms. */
export async function startZkEnsemble(): Promise<ZkEnsemble> {
  const java = javaPath();
  if (!java) throw new Error('java not found; run scripts/install-peers.sh');
  const root = createTempDir('coracle-zk-ensemble-');
  const ports = await freePorts(9);
  const clientPorts = [0, 1, 2].map((i) => ports[3 * i]!);
  const quorum = [0, 1, 2].map((i) => `server.${i + 1}=127.0.0.1:${ports[3 * i + 1]}:${ports[3 * i + 2]}`);
  const classpath = zookeeperClasspath().join(':');
  const procs: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
    releasePorts(ports);
    removeTempDir(root);
  };
  try {
    for (let i = 0; i < 3; i++) {
      const dataDir = path.join(root, `z${i + 1}`);
      fs.mkdirSync(dataDir);
      fs.writeFileSync(path.join(dataDir, 'myid'), `${i + 1}\n`);
      const cfg = path.join(root, `z${i + 1}.cfg`);
      fs.writeFileSync(cfg, serverCfg(dataDir, clientPorts[i]!, quorum));
      const args = ['-XX:-UsePerfData', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', classpath, MAIN_CLASS, cfg];
      procs.push(startProcess(java, args, { name: `zookeeper-ensemble:${clientPorts[i]}`, cwd: root }));
    }
    const leader = await pollUntil('a ZooKeeper ensemble with one leader and two followers', async () => {
      const dead = procs.find((p) => p.exited);
      if (dead) throw dead.failure('exited during startup');
      const modes = await Promise.all(clientPorts.map(modeOf));
      const lead = modes.indexOf('leader');
      return lead >= 0 && modes.filter((m) => m === 'follower').length === 2 ? lead : undefined;
    }, QUORUM_TIMEOUT_MS, 200);
    return { clientPorts, pids: procs.map((p) => p.pid), leader, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
