/**
 * The two 3-member clusters the cluster benchmark compares, behind one small interface: client
 * endpoints, member pids, the current leader, kill -9 and restart of one member, and stop.
 *
 * Coracle comes from test/support/cluster.ts and etcd 3.4 from test/support/etcd-peer.ts; both
 * start real processes on free 127.0.0.1 ports with fresh data dirs and fsync on, and only ever
 * signal the processes they started. Both get etcd's default election settings, spelled out so a
 * change of either default cannot silently skew the failover comparison.
 */
import { CoracleCluster, endpointStatus } from '../test/support/cluster';
import { startEtcd, type EtcdPeer } from '../test/support/etcd-peer';
import { pollUntil } from '../test/support/poll';

/** etcd's defaults (ms), used for both systems. */
export const HEARTBEAT_MS = 100;
export const ELECTION_MS = 1000;

/** Bounds the wait for a stable leader (all live members agree on one). */
const LEADER_TIMEOUT_MS = 20_000;

/** A running 3-member cluster under test. */
export interface BenchCluster {
  /** Label in the tables. */
  readonly name: string;
  /** `127.0.0.1:port` client endpoint of member i. */
  endpoint(i: number): string;
  /** Number of members. */
  readonly size: number;
  /** Whether member i's process is running. */
  alive(i: number): boolean;
  /** ZooKeeper port of member i, when the cluster serves ZooKeeper. */
  zkPort?(i: number): number | undefined;
  /** Pid of member i's current process (undefined before its first start). */
  pid(i: number): number | undefined;
  /** Kill member i with SIGKILL and wait for its exit; resolves once the signal went out and it exited. */
  kill9(i: number): Promise<void>;
  /** Start member i again on its data dir and wait until it reports healthy. */
  restart(i: number): Promise<void>;
  /** Stop every member and remove the data dirs. */
  stop(): Promise<void>;
}

/**
 * Index of the leader once every live member names the same leader and that leader is live,
 * polled with `etcdctl endpoint status` (works on both systems) in a bounded loop.
 */
export async function stableLeader(c: BenchCluster): Promise<number> {
  return pollUntil(`${c.name}: a leader all live members agree on`, async () => {
    const seen: Array<{ memberId: string; leader: string }> = [];
    const ids = new Map<string, number>();
    for (let i = 0; i < c.size; i++) {
      if (!c.alive(i)) continue;
      const s = await endpointStatus(c.endpoint(i));
      if (!s || s.leader === '0') return undefined;
      seen.push(s);
      ids.set(s.memberId, i);
    }
    const leader = seen[0]?.leader;
    if (leader === undefined || seen.some((s) => s.leader !== leader)) return undefined;
    return ids.get(leader);
  }, LEADER_TIMEOUT_MS, 200);
}

/**
 * Starts a 3-member Coracle cluster; with `zk`, every member also serves ZooKeeper (no
 * per-address connection limit: all load comes from 127.0.0.1), on {@link BenchCluster.zkPort}.
 */
export async function startCoracleCluster(opts: { zk?: boolean } = {}): Promise<BenchCluster> {
  const c = await CoracleCluster.start({
    size: 3,
    token: 'coracle-cluster-bench',
    zk: opts.zk,
    extraArgs: ['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_MS), ...(opts.zk ? ['--zk-max-client-cnxns', '0'] : [])],
  });
  const member = (i: number) => {
    const m = c.members[i];
    if (!m) throw new Error(`no Coracle member ${i}`);
    return m;
  };
  const alive = (i: number): boolean => { const p = member(i).process; return p !== undefined && !p.exited; };
  return {
    name: 'Coracle',
    size: c.members.length,
    endpoint: (i) => member(i).endpoint,
    zkPort: (i) => member(i).zkPort,
    pid: (i) => member(i).process?.pid,
    kill9: (i) => c.kill9(member(i)),
    restart: (i) => c.restart(member(i)),
    stop: () => c.close(),
    alive,
  };
}

/** Starts a 3-member etcd 3.4 cluster. */
export async function startEtcdCluster(): Promise<BenchCluster> {
  const peer: EtcdPeer = await startEtcd({
    members: 3,
    extraArgs: [`--heartbeat-interval=${HEARTBEAT_MS}`, `--election-timeout=${ELECTION_MS}`, '--log-level=warn'],
  });
  const member = (i: number) => {
    const m = peer.members[i];
    if (!m) throw new Error(`no etcd member ${i}`);
    return m;
  };
  return {
    name: 'etcd 3.4',
    size: peer.members.length,
    endpoint: (i) => `127.0.0.1:${member(i).clientPort}`,
    pid: (i) => member(i).process.pid,
    kill9: (i) => peer.killMember(i),
    restart: (i) => peer.restartMember(i),
    stop: () => peer.stop(),
    alive: (i) => !member(i).process.exited,
  };
}
