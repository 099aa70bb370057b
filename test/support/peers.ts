/**
 * The real peers that interop, differential, fault and benchmark runs compare Coracle against,
 * and the rule for when one is missing (DESIGN §8):
 * - `CORACLE_REQUIRE_PEERS=1` (set by `.ci/run`): a missing peer is a failure ({@link requirePeer} throws);
 * - otherwise the test is skipped with a reason naming the missing file and the install script.
 *
 * All peers come from Debian packages installed by `scripts/install-peers.sh`; paths are the
 * Debian ones. Python peers are run with `/usr/bin/python3` on purpose: Debian's python3-kazoo is
 * installed for that interpreter only, and a `python3` earlier on PATH (pyenv, venv) lacks it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The peers a test can ask for. */
export type PeerName = 'etcd' | 'etcdctl' | 'zookeeper' | 'zkCli' | 'cliMt' | 'loadGen' | 'kazoo' | 'patroni' | 'clickhouse' | 'zktop';

/** The Python interpreter that has Debian's python3-kazoo. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
/** Where Debian puts ZooKeeper's jars and their dependencies. */
export const JAVA_LIB_DIR = '/usr/share/java';
/** Debian's etcd 3.4 server and client. */
export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';
/** ZooKeeper's Java command-line client (package zookeeper). */
export const ZKCLI_SH = '/usr/share/zookeeper/bin/zkCli.sh';

/** zookeeper-bin puts the C client's tools outside PATH; other layouts are tried as fallbacks. */
const C_CLIENT_DIRS = ['/usr/lib/zookeeper/bin', '/usr/bin', '/usr/sbin', '/usr/local/bin'];

const INSTALL_HINT = 'run scripts/install-peers.sh';

/** Debian's Patroni (PostgreSQL high availability over ZooKeeper or etcd v3). */
export const PATRONI_BIN = '/usr/bin/patroni';
/** Debian's ClickHouse server (18.16): replicated tables coordinated through ZooKeeper. */
export const CLICKHOUSE_BIN = '/usr/sbin/clickhouse-server';
/** Debian's zktop, a console monitor that parses the `stat` four-letter word (a Python 3 module). */
export const ZKTOP_MODULE = '/usr/lib/python3/dist-packages/zktop.py';

/** Where Debian puts each PostgreSQL major version's server binaries. */
const POSTGRES_LIB_DIR = '/usr/lib/postgresql';

/** The newest installed PostgreSQL server's bin directory (with initdb), if any. */
export function postgresBinDir(): string | undefined {
  let versions: string[];
  try {
    versions = fs.readdirSync(POSTGRES_LIB_DIR).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  return versions.map((v) => path.join(POSTGRES_LIB_DIR, v, 'bin')).find((d) => isExecutable(path.join(d, 'initdb')));
}

/** Whether CI asked for missing peers to fail rather than skip. */
export function peersRequired(): boolean {
  return process.env.CORACLE_REQUIRE_PEERS === '1';
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The `java` binary: $JAVA_HOME/bin/java, else the first on PATH, else /usr/bin/java. */
export function javaPath(): string | undefined {
  const candidates: string[] = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(path.join(dir, 'java'));
  candidates.push('/usr/bin/java');
  return candidates.find(isExecutable);
}

/** Path of a ZooKeeper C client tool (`cli_mt`, `load_gen`), if installed. */
export function cClientPath(tool: 'cli_mt' | 'load_gen'): string | undefined {
  return C_CLIENT_DIRS.map((d) => path.join(d, tool)).find(isExecutable);
}

/** Where a peer was found, or why it was not. */
export interface PeerStatus {
  available: boolean;
  /** The executable (or jar directory / interpreter) that was found. */
  path?: string;
  /** Why the peer is unavailable. */
  missing?: string;
}

const cache = new Map<PeerName, PeerStatus>();

function probe(name: PeerName): PeerStatus {
  const file = (p: string | undefined, what: string): PeerStatus =>
    p && isExecutable(p) ? { available: true, path: p } : { available: false, missing: `${what} not found` };
  switch (name) {
    case 'etcd':
      return file(ETCD_BIN, ETCD_BIN);
    case 'etcdctl':
      return file(ETCDCTL_BIN, ETCDCTL_BIN);
    case 'zkCli': {
      const java = javaPath();
      if (!java) return { available: false, missing: 'java not found' };
      return file(ZKCLI_SH, ZKCLI_SH);
    }
    case 'cliMt':
      return file(cClientPath('cli_mt'), `cli_mt (in ${C_CLIENT_DIRS.join(', ')})`);
    case 'loadGen':
      return file(cClientPath('load_gen'), `load_gen (in ${C_CLIENT_DIRS.join(', ')})`);
    case 'zookeeper': {
      if (!javaPath()) return { available: false, missing: 'java not found' };
      for (const jar of ['zookeeper.jar', 'zookeeper-jute.jar']) {
        if (!fs.existsSync(path.join(JAVA_LIB_DIR, jar))) return { available: false, missing: `${JAVA_LIB_DIR}/${jar} not found` };
      }
      return { available: true, path: JAVA_LIB_DIR };
    }
    case 'patroni': {
      if (!isExecutable(PATRONI_BIN)) return { available: false, missing: `${PATRONI_BIN} not found` };
      if (!postgresBinDir()) return { available: false, missing: `no PostgreSQL server (initdb) under ${POSTGRES_LIB_DIR}` };
      // Patroni's etcd3 and ZooKeeper backends import python3-etcd and kazoo.
      const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import etcd, kazoo'], { timeout: 15_000, stdio: 'ignore' });
      return r.status === 0 ? { available: true, path: PATRONI_BIN } : { available: false, missing: `${SYSTEM_PYTHON} cannot import etcd and kazoo` };
    }
    case 'clickhouse':
      return file(CLICKHOUSE_BIN, CLICKHOUSE_BIN);
    case 'zktop':
      return fs.existsSync(ZKTOP_MODULE) ? { available: true, path: ZKTOP_MODULE } : { available: false, missing: `${ZKTOP_MODULE} not found` };
    case 'kazoo': {
      if (!isExecutable(SYSTEM_PYTHON)) return { available: false, missing: `${SYSTEM_PYTHON} not found` };
      const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import kazoo'], { timeout: 15_000, stdio: 'ignore' });
      return r.status === 0
        ? { available: true, path: SYSTEM_PYTHON }
        : { available: false, missing: `${SYSTEM_PYTHON} cannot import kazoo` };
    }
  }
}

/** Probe a peer (cached per process). Never throws. */
export function peerStatus(name: PeerName): PeerStatus {
  let s = cache.get(name);
  if (!s) {
    s = probe(name);
    cache.set(name, s);
  }
  return s;
}

/**
 * Check that the named peers are installed. Returns `undefined` when all are, otherwise a skip
 * reason for `t.skip(reason)` / `test(name, { skip: reason })`. Throws instead when
 * `CORACLE_REQUIRE_PEERS=1`, so CI fails rather than silently skipping.
 *
 * @example
 *   const skip = requirePeer('etcd', 'etcdctl');
 *   if (skip) return t.skip(skip);
 */
export function requirePeer(...names: PeerName[]): string | undefined {
  const missing = names.map((n) => [n, peerStatus(n)] as const).filter(([, s]) => !s.available);
  if (missing.length === 0) return undefined;
  const reason = `peer missing: ${missing.map(([n, s]) => `${n} (${s.missing})`).join(', ')}; ${INSTALL_HINT}`;
  if (peersRequired()) throw new Error(`${reason} [CORACLE_REQUIRE_PEERS=1]`);
  return reason;
}
