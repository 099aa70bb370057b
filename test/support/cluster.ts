/**
 * A cluster of real `coracle` processes on 127.0.0.1 with ports chosen at run time: static
 * bootstrap with --initial-cluster, per-member kill -9 / SIGSTOP / restart / stop, and new members
 * started from the environment lines `etcdctl member add` prints. Only processes started here
 * are ever signalled.
 *
 * With {@link ClusterOptions.peerProxies}, peers reach each other only through TCP proxies
 * (tcp-proxy.ts): each member listens on its own peer port but advertises the port of a proxy in
 * front of it, and that proxy tells the connecting members apart, so every directed link
 * `a → b` can be cut on its own ({@link CoracleCluster.cutLink}, {@link CoracleCluster.isolate}).
 * A link carries what `a`'s process sends to `b` (appends, heartbeats, votes, responses,
 * snapshots, forwarded requests): Raft responses travel on the opposite link, so cutting
 * `b → a` alone gives the asymmetric case "a can send but not receive".
 */
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { CORACLE_BIN, httpGet, tcpAccepts } from './coracle-server';
import { etcdctl, quoteBigInts } from './etcdctl';
import { freePorts } from './ports';
import { pollUntil } from './poll';
import { ManagedProcess, startProcess } from './process';
import { createTempDir, removeTempDir } from './temp-dir';
import { connectingPid, CutMode, TcpProxy } from './tcp-proxy';

/** One member of a test cluster (started or not). */
export interface ClusterMember {
  name: string;
  clientPort: number;
  peerPort: number;
  /** `127.0.0.1:<clientPort>` for etcdctl. */
  endpoint: string;
  /** The advertised peer URL (the proxy's, with {@link ClusterOptions.peerProxies}). */
  peerUrl: string;
  /** The URL the member listens on for peers (differs from `peerUrl` only behind a proxy). */
  listenPeerUrl?: string;
  /** The proxy in front of this member's peer port ({@link ClusterOptions.peerProxies}). */
  peerProxy?: TcpProxy;
  dataDir: string;
  /** The ZooKeeper port, when the cluster serves ZooKeeper ({@link ClusterOptions.zk}). */
  zkPort?: number;
  /** The ZooKeeper AdminServer's port ({@link ClusterOptions.zkAdmin}). */
  zkAdminPort?: number;
  process?: ManagedProcess;
}

/** Options of {@link CoracleCluster.start}. */
export interface ClusterOptions {
  size: number;
  token?: string;
  /** Each member also serves ZooKeeper on a port of its own (default: off). */
  zk?: boolean;
  /** With `zk`, each member also serves ZooKeeper's AdminServer on a port of its own (default: off). */
  zkAdmin?: boolean;
  /** Extra flags for every member. */
  extraArgs?: string[];
  startTimeoutMs?: number;
  /** Peers talk through per-member TCP proxies whose links can be cut (default: off). */
  peerProxies?: boolean;
}

/** A running test cluster. */
export class CoracleCluster {
  readonly members: ClusterMember[] = [];
  private readonly root = createTempDir('coracle-cluster-');
  private nameSeq = 0;

  private constructor(private readonly options: ClusterOptions) {}

  /**
   * Starts `size` members with a static --initial-cluster and waits until all are healthy and,
   * with `zk`, until every ZooKeeper port accepts: it opens once the member's front end has
   * loaded the tree, which needs a leader, and an election lost to a busy machine right after
   * the first one can hold that back (a client started before it got connection refused).
   */
  static async start(options: ClusterOptions): Promise<CoracleCluster> {
    const c = new CoracleCluster(options);
    for (let i = 0; i < options.size; i++) c.members.push(await c.allocate());
    const initial = c.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    try {
      await Promise.all(c.members.map((m) => c.launch(m, ['--initial-cluster', initial, '--initial-cluster-state', 'new'])));
      if (options.zk) {
        await Promise.all(c.members.map((m) => pollUntil(`coracle ${m.name} ZooKeeper port`, async () => ((await tcpAccepts(m.zkPort!)) ? true : undefined), options.startTimeoutMs ?? 30_000, 200)));
      }
    } catch (err) {
      await c.close();
      throw err;
    }
    return c;
  }

  /** A new member with fresh ports and data dir, not started. */
  async allocate(name?: string): Promise<ClusterMember> {
    const [clientPort, peerPort, zkPort, zkAdminPort] = (await freePorts(4)) as [number, number, number, number];
    const n = name ?? `m${++this.nameSeq}`;
    const m: ClusterMember = {
      name: n, clientPort, peerPort, endpoint: `127.0.0.1:${clientPort}`,
      peerUrl: `http://127.0.0.1:${peerPort}`, dataDir: path.join(this.root, `${n}-${peerPort}`),
      zkPort: this.options.zk ? zkPort : undefined,
      zkAdminPort: this.options.zk && this.options.zkAdmin ? zkAdminPort : undefined,
    };
    if (this.options.peerProxies) {
      m.peerProxy = await TcpProxy.start({ targetPort: peerPort, identify: (s) => this.memberOwning(s) });
      m.listenPeerUrl = m.peerUrl;
      m.peerUrl = m.peerProxy.url;
    }
    return m;
  }

  /** The name of the member whose running process opened `socket` (a proxied peer connection). */
  private memberOwning(socket: Socket): string | undefined {
    const running = this.members.filter((m) => m.process && !m.process.exited);
    const pid = connectingPid(socket, running.map((m) => m.process!.pid));
    return running.find((m) => m.process!.pid === pid)?.name;
  }

  /**
   * Cuts the directed link `from → to` (what `from` sends to `to`); needs
   * {@link ClusterOptions.peerProxies}. See tcp-proxy.ts for the modes.
   */
  cutLink(from: ClusterMember, to: ClusterMember, mode: CutMode = 'refuse'): void {
    proxyOf(to).cut(mode, from.name);
  }

  /** Heals the directed link `from → to`. */
  healLink(from: ClusterMember, to: ClusterMember): void {
    proxyOf(to).heal(from.name);
  }

  /**
   * Cuts `m` off from every other member: `both` ways, only what it receives (`in`: it can send
   * but hears nothing back), or only what it sends (`out`).
   */
  isolate(m: ClusterMember, mode: CutMode = 'refuse', direction: 'both' | 'in' | 'out' = 'both'): void {
    for (const other of this.members) {
      if (other === m) continue;
      if (direction !== 'out') this.cutLink(other, m, mode);
      if (direction !== 'in') this.cutLink(m, other, mode);
    }
  }

  /** Heals every cut link. */
  healAll(): void {
    for (const m of this.members) m.peerProxy?.heal();
  }

  /**
   * The flags that pin a member's ports and data dir; with `fromEnv`, name and advertised peer
   * URLs are left to the environment (the lines `member add` prints).
   */
  baseArgs(m: ClusterMember, fromEnv = false): string[] {
    const identity = fromEnv ? [] : ['--name', m.name, '--initial-advertise-peer-urls', m.peerUrl];
    return [
      CORACLE_BIN, ...identity, '--data-dir', m.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`, '--listen-peer-urls', m.listenPeerUrl ?? m.peerUrl,
      '--initial-cluster-token', this.options.token ?? 'coracle-test', '--zk-listen', m.zkPort === undefined ? '' : `127.0.0.1:${m.zkPort}`, '--log-level', 'warn',
      ...(m.zkAdminPort === undefined ? [] : ['--zk-admin-listen', `127.0.0.1:${m.zkAdminPort}`]),
      ...(this.options.extraArgs ?? []),
    ];
  }

  /** Starts `m` with extra flags/env and waits for its /health (a leader known and a read served). */
  async launch(m: ClusterMember, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<void> {
    const fromEnv = env.ETCD_NAME !== undefined;
    const p = startProcess(process.execPath, [...this.baseArgs(m, fromEnv), ...extraArgs], { name: `coracle-${m.name}`, env });
    m.process = p;
    // An exit ends the wait at once (pollUntil retries a probe that throws, so the exit is a
    // result of the probe, not an exception: else a member killed while starting would hold
    // its caller for the whole start timeout).
    const r = await pollUntil(`coracle ${m.name} /health`, async () => {
      if (p.exited) return 'exited';
      const h = await httpGet(m.clientPort, '/health', 1000);
      return h?.status === 200 ? 'healthy' : undefined;
    }, this.options.startTimeoutMs ?? 30_000, 200);
    if (r === 'exited') throw p.failure(`coracle ${m.name} exited during start`);
  }

  /** Starts `m` expecting it to refuse to start; resolves with its exit code and output. */
  async launchExpectingFailure(m: ClusterMember, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
    const p = startProcess(process.execPath, [...this.baseArgs(m, env.ETCD_NAME !== undefined), ...extraArgs], { name: `coracle-${m.name}`, env });
    m.process = p;
    const exit = await p.waitForExit(timeoutMs);
    return { code: exit.code, output: p.tail(200) };
  }

  /** Restarts a stopped member on its data dir (no --initial-* flags: they are ignored anyway). */
  restart(m: ClusterMember): Promise<void> {
    return this.launch(m);
  }

  /** SIGKILL, then wait for the exit. */
  async kill9(m: ClusterMember): Promise<void> {
    if (!m.process || m.process.exited) return;
    m.process.signal('SIGKILL');
    await m.process.waitForExit(5000);
  }

  /** SIGSTOP / SIGCONT. */
  pause(m: ClusterMember): void {
    m.process?.signal('SIGSTOP');
  }

  resume(m: ClusterMember): void {
    m.process?.signal('SIGCONT');
  }

  /** Endpoints of the members whose process is running. */
  liveEndpoints(): string[] {
    return this.members.filter((m) => m.process && !m.process.exited).map((m) => m.endpoint);
  }

  /** The member that is leader according to a quorum-independent `endpoint status` poll. */
  async leader(timeoutMs = 15_000): Promise<ClusterMember> {
    return pollUntil('a leader', async () => {
      for (const m of this.members.filter((x) => x.process && !x.process.exited)) {
        const s = await endpointStatus(m.endpoint);
        if (s && s.leader !== '0' && s.leader === s.memberId) return m;
      }
      return undefined;
    }, timeoutMs, 200);
  }

  /** Moves Raft leadership to `m` (`etcdctl move-leader`, sent to the current leader) and waits until it leads. */
  async moveLeaderTo(m: ClusterMember): Promise<void> {
    const leader = await this.leader();
    if (leader === m) return;
    const id = (await endpointStatus(m.endpoint))?.memberId;
    if (!id) throw new Error(`${m.name} does not answer endpoint status`);
    const r = await etcdctl(leader.endpoint, ['move-leader', BigInt(id).toString(16)]);
    if (r.code !== 0) throw new Error(`move-leader to ${m.name}: ${r.stderr}`);
    await pollUntil(`${m.name} leads`, async () => ((await this.leader()) === m ? true : undefined), 15_000, 200);
  }

  /** Stops every member (SIGKILL if SIGTERM is ignored), closes the proxies and removes the data dirs. */
  async close(): Promise<void> {
    await Promise.all(this.members.map(async (m) => {
      if (m.process && !m.process.exited) {
        m.process.signal('SIGCONT');
        await m.process.stop(5000);
      }
    }));
    await Promise.all(this.members.map((m) => m.peerProxy?.close()));
    removeTempDir(this.root);
  }
}

function proxyOf(m: ClusterMember): TcpProxy {
  if (!m.peerProxy) throw new Error(`${m.name} has no peer proxy: start the cluster with peerProxies`);
  return m.peerProxy;
}

/** `etcdctl endpoint status` of one endpoint: its member id and the leader it sees (decimal strings). */
export async function endpointStatus(endpoint: string): Promise<{ memberId: string; leader: string; raftIndex: string; raftTerm: string } | undefined> {
  const r = await etcdctl(endpoint, ['--write-out=json', 'endpoint', 'status'], { timeoutMs: 4000 });
  if (r.code !== 0) return undefined;
  const [s] = JSON.parse(quoteBigInts(r.stdout)) as Array<{ Status: { header: { member_id: string | number }; leader: string | number; raftIndex: string | number; raftTerm: string | number } }>;
  if (!s) return undefined;
  return { memberId: String(s.Status.header.member_id), leader: String(s.Status.leader), raftIndex: String(s.Status.raftIndex), raftTerm: String(s.Status.raftTerm) };
}

/** Parses the `ETCD_*="…"` lines `etcdctl member add` prints into an environment. */
export function parseMemberAddEnv(stdout: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const line of stdout.split('\n')) {
    const m = /^(ETCD_[A-Z_]+)="(.*)"$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}
