/**
 * One Patroni node (Debian's patroni 3.x) with its own PostgreSQL, for tests that run a real
 * service built on ZooKeeper or etcd v3 against Coracle. Patroni keeps its leader lock, member
 * records and cluster config in the DCS given (`zookeeper` through kazoo, `etcd3` through the
 * v3 JSON gateway) and fails PostgreSQL over when the leader's lock lapses.
 *
 * PostgreSQL refuses to run as root: a test running as root starts Patroni as the `postgres`
 * user (made by Debian's postgresql-common) through `setpriv`, which execs, so the managed
 * process is Patroni itself and its tree holds the postmaster. Everything a node writes lives in
 * its directory under a temp dir of the test.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PATRONI_BIN, SYSTEM_PYTHON, postgresBinDir } from './peers';
import { freePorts } from './ports';
import { pollUntil } from './poll';
import { httpRequest } from './http-request';
import { ManagedProcess, startProcess } from './process';
import { CommandResult, runCommand } from './run-command';

/** Debian's patronictl (the operator's CLI: list, switchover, failover…). */
const PATRONICTL_BIN = '/usr/bin/patronictl';

/** Where the node keeps its DCS: ZooKeeper ports or etcd client ports on 127.0.0.1 (one per member). */
export type PatroniDcs = { kind: 'zookeeper' | 'etcd3'; ports: readonly number[] };

/** Patroni's DCS timing, set when the first node bootstraps the cluster (seconds). */
export interface PatroniTiming {
  /** How long the leader lock outlives its holder's last renewal (the session / lease time). */
  ttl: number;
  loop_wait: number;
  /** How long a DCS operation is retried before the primary demotes itself. */
  retry_timeout: number;
}

/** What `GET /patroni` says about a node. */
export interface PatroniStatus {
  /** `master` (Patroni 3.0; `primary` from 3.1), `replica`, … */
  role: string;
  /** `running`, `starting`, `stopped`, … */
  state: string;
}

/** Timing kept short so a failover fits a test: the leader lock lapses 10 s after a crash. */
export const FAST_FAILOVER: PatroniTiming = { ttl: 10, loop_wait: 1, retry_timeout: 4 };

/** A started node. */
export interface PatroniNode {
  name: string;
  restPort: number;
  /** Its patroni.yml (patronictl reads the DCS settings from it). */
  configFile: string;
  process: ManagedProcess;
  /** The node's REST status; undefined while its API does not answer. */
  status(): Promise<PatroniStatus | undefined>;
  /** Polls until `ok(status)` holds; rejects after `timeoutMs` or if Patroni exits. */
  waitFor(what: string, ok: (s: PatroniStatus) => boolean, timeoutMs: number): Promise<PatroniStatus>;
}

/** The OS user a node runs as: `postgres` when the test is root, else the test's own user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root, and there is no postgres user to run PostgreSQL as (install postgresql)');
  return { uid, gid: id('-g') };
}

/** Patroni's configuration (JSON is YAML) for node `name` of cluster `scope`. */
function config(scope: string, name: string, dir: string, dcs: PatroniDcs, timing: PatroniTiming, restPort: number, pgPort: number, binDir: string): object {
  return {
    scope, name,
    restapi: { listen: `127.0.0.1:${restPort}`, connect_address: `127.0.0.1:${restPort}` },
    [dcs.kind]: { hosts: dcs.ports.map((p) => `127.0.0.1:${p}`) },
    bootstrap: {
      dcs: timing,
      initdb: [{ encoding: 'UTF8' }],
      pg_hba: ['local all all trust', 'host replication replicator 127.0.0.1/32 md5', 'host all all 127.0.0.1/32 md5'],
    },
    postgresql: {
      listen: `127.0.0.1:${pgPort}`, connect_address: `127.0.0.1:${pgPort}`,
      data_dir: path.join(dir, 'data'), bin_dir: binDir, pgpass: path.join(dir, 'pgpass'),
      authentication: { superuser: { username: 'postgres', password: 'pw' }, replication: { username: 'replicator', password: 'rpw' } },
      parameters: { unix_socket_directories: dir, shared_buffers: '16MB', max_connections: 20 },
    },
  };
}

/**
 * Starts node `name` of cluster `scope` in `parentDir` (a temp dir of the test). The caller
 * stops it (`process.stop()` for a clean shutdown, `process.signal('SIGKILL')` for a crash).
 */
export async function startPatroniNode(scope: string, name: string, parentDir: string, dcs: PatroniDcs, timing = FAST_FAILOVER): Promise<PatroniNode> {
  const binDir = postgresBinDir();
  if (!binDir) throw new Error('no PostgreSQL server found (install postgresql)');
  const user = runAs();
  const dir = path.join(parentDir, name);
  fs.mkdirSync(dir, { mode: 0o700 });
  if (user) {
    // The postgres user must reach its directory through the test's (0700) temp dir.
    fs.chmodSync(parentDir, 0o755);
    fs.chownSync(dir, user.uid, user.gid);
  }
  const [restPort, pgPort] = (await freePorts(2)) as [number, number];
  const file = path.join(dir, 'patroni.yml');
  fs.writeFileSync(file, JSON.stringify(config(scope, name, dir, dcs, timing, restPort, pgPort, binDir), null, 1), { mode: 0o644 });
  const command = [SYSTEM_PYTHON, PATRONI_BIN, file];
  const args = user ? ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', ...command] : command.slice(1);
  const proc = startProcess(user ? 'setpriv' : command[0]!, args, { name: `patroni-${name}`, env: { HOME: dir, PGPASSFILE: path.join(dir, 'pgpass') } });
  const status = async (): Promise<PatroniStatus | undefined> => {
    const r = await httpRequest(restPort, '/patroni').catch(() => undefined);
    if (!r || r.status === 0) return undefined;
    try {
      const body = JSON.parse(r.body) as { role?: string; state?: string };
      return { role: body.role ?? '', state: body.state ?? '' };
    } catch {
      return undefined;
    }
  };
  const waitFor = (what: string, ok: (s: PatroniStatus) => boolean, timeoutMs: number): Promise<PatroniStatus> =>
    pollUntil(`${name}: ${what}`, async () => {
      if (proc.exited) throw proc.failure(`exited while waiting for ${what}`);
      const s = await status();
      return s && ok(s) ? s : undefined;
    }, timeoutMs, 250);
  return { name, restPort, configFile: file, process: proc, status, waitFor };
}

/** Runs `patronictl -c <node's config> <args…>` to completion (bounded by `timeoutMs`). */
export function patronictl(node: PatroniNode, args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(SYSTEM_PYTHON, [PATRONICTL_BIN, '-c', node.configFile, ...args], { timeoutMs, env: { HOME: path.dirname(node.configFile) } });
}

/** Whether a status is a running replica (streaming from the primary, or about to). */
export function isRunningReplica(s: PatroniStatus): boolean {
  return s.role === 'replica' && s.state === 'running';
}

/** Whether a status is a running primary (Patroni 3.0 says `master`, later ones `primary`). */
export function isRunningPrimary(s: PatroniStatus): boolean {
  return (s.role === 'master' || s.role === 'primary') && s.state === 'running';
}
