/**
 * A controllable TCP proxy on 127.0.0.1 for fault tests: it listens on a port chosen at run
 * time, forwards every accepted connection to one target port (`retarget` switches it for new
 * connections), and can cut the traffic that comes from a given source (one directed link) or
 * from every source.
 *
 * Why one proxy per target with per-source rules: the peer transport dials the peer URL a
 * member advertises, and there is one advertised URL per member that every other member uses
 * (the member id is derived from it). So a proxy can only stand in front of a target member;
 * the link "A → B" is "the connections A's process opens to B's proxy". The proxy tells sources
 * apart by asking Linux who owns the connecting socket: the client end of an accepted
 * connection is a line of /proc/net/tcp (its port → an inode), and exactly one of the
 * candidate processes holds `socket:[inode]` among its /proc/<pid>/fd entries (see
 * {@link connectingPid}). That gives every directed link of the cluster its own switch without
 * touching the system under test. A plain proxy per target could only cut everything into a
 * member: isolating the leader both ways would then also cut the two others apart (what they
 * send each other passes the same proxies), and "the leader sends but hears nothing" could not
 * be told from "the leader hears but cannot send". Network namespaces would give real links
 * too, but need root and veth plumbing that CI may not have; the proxy needs neither.
 *
 * Cut modes, which exercise different code paths of the sender:
 * - `refuse`: existing connections of the link are reset (RST) on both sides, new ones are
 *   accepted by the kernel and reset at once (the dialler sees ECONNRESET right after its
 *   connect; a listening socket cannot refuse one source only). Failures are immediate.
 * - `blackhole`: existing connections stay open but every byte in both directions is dropped,
 *   and new connections are accepted and never forwarded. Nothing fails: only a timeout (an
 *   HTTP/2 PING left unanswered) can tell the sender. `heal` resets these connections (their
 *   byte streams lost data, so they cannot be resumed).
 * - `hold`: like `blackhole` while it lasts, but nothing is lost: the proxy stops reading both
 *   sides (the kernels' buffers fill, then the writers block) and at `heal` everything held
 *   passes in order, including a close that happened meanwhile; a connection accepted while
 *   held is forwarded then. This is what TCP does across a partition that heals before its
 *   retransmissions give up: the far side gets stale messages late, in a burst.
 * `heal` lets new connections through again in every mode.
 *
 * A connection whose source cannot be named (its process is gone, or it is not one of the
 * candidates) follows the whole-proxy rule if there is one, else the strictest active source
 * rule: a cut never leaks.
 *
 * Bounded: at most `maxConnections` open connections (more are reset); per connection and
 * direction no more than a socket's read buffer (its high-water mark) is held in memory, as
 * backpressure or a hold pauses the reading side. `close()` destroys only the sockets this
 * proxy accepted or opened.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { freePort, releasePorts } from './ports';

/** How a cut link treats traffic; see the file header. */
export type CutMode = 'refuse' | 'blackhole' | 'hold';

/** Options of {@link TcpProxy.start}. */
export interface TcpProxyOptions {
  /** The port connections are forwarded to (on `targetHost`, default 127.0.0.1). */
  targetPort: number;
  targetHost?: string;
  /** The port to listen on (default: a free port reserved at run time). */
  listenPort?: number;
  /** Names the source of an accepted connection; undefined when unknown. Called once per connection. */
  identify?: (socket: net.Socket) => string | undefined;
  /** Open connections at most (default 256); more are reset. */
  maxConnections?: number;
}

/** Counters of a proxy, for test diagnostics. */
export interface TcpProxyStats {
  accepted: number;
  forwarded: number;
  refused: number;
  blackholed: number;
  held: number;
  /** Connections whose source `identify` could not name (they follow the strictest rule). */
  unidentified: number;
  open: number;
}

/** A switch for one directed link (one source into this proxy's target). */
export interface LinkSwitch {
  cut(mode?: CutMode): void;
  heal(): void;
}

interface Conn {
  client: net.Socket;
  upstream?: net.Socket;
  source: string | undefined;
  state: 'forward' | 'blackhole' | 'held';
  /**
   * What arrived while held, passed on at the heal in order: chunks (at most what was in flight
   * when the sockets were paused) and ends (a paused socket still reports the peer's end).
   */
  queued: Array<{ dir: 'up' | 'down'; chunk?: Buffer | string }>;
  /** A side closed while held: the other goes at the heal, as a held-back close arrives late. */
  closedWhileHeld: boolean;
}

const DEFAULT_MAX_CONNECTIONS = 256;
/** The key for "every source" in the rule table. */
const ALL = '\u0000all';

/** A proxy in front of one target port; create with {@link TcpProxy.start}. */
export class TcpProxy {
  private readonly conns = new Set<Conn>();
  /** Active cuts: source name (or {@link ALL}) → mode. */
  private readonly rules = new Map<string, CutMode>();
  private readonly counters = { accepted: 0, forwarded: 0, refused: 0, blackholed: 0, held: 0, unidentified: 0 };
  private closed = false;
  /** Where new connections go (see {@link retarget}). */
  private targetPort: number;

  private constructor(
    private readonly server: net.Server,
    /** The port this proxy listens on (connect here instead of the target). */
    readonly port: number,
    private readonly ownsPort: boolean,
    private readonly o: TcpProxyOptions,
  ) {
    this.targetPort = o.targetPort;
  }

  /** Starts listening on 127.0.0.1 and forwarding to the target. */
  static async start(o: TcpProxyOptions): Promise<TcpProxy> {
    const port = o.listenPort ?? (await freePort());
    // allowHalfOpen: an end from one side is passed on as an end, not turned into a close.
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const proxy = new TcpProxy(server, port, o.listenPort === undefined, o);
    server.on('connection', (s) => proxy.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {}); // after listen: accept errors (EMFILE) only lose that connection
    // A proxy never keeps a test process alive on its own (as managed processes do not): a
    // forgotten close() must not turn into a hang until the runner's timeout.
    server.unref();
    return proxy;
  }

  /** The URL of this proxy, `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Counters so far. */
  get stats(): TcpProxyStats {
    return { ...this.counters, open: this.conns.size };
  }

  /** Cuts the link from `source` (every source when omitted); see the file header for modes. */
  cut(mode: CutMode = 'refuse', source?: string): void {
    this.rules.set(source ?? ALL, mode);
    for (const c of [...this.conns]) {
      const rule = this.ruleFor(c.source);
      if (rule === 'refuse') this.reset(c);
      else if (rule === 'blackhole' && c.state !== 'blackhole') {
        c.state = 'blackhole';
        c.queued = [];
        // A paused side (held, or backpressure from the side now dropped) drains into the void.
        c.client.resume();
        c.upstream?.resume();
      } else if (rule === 'hold' && c.state === 'forward') {
        c.state = 'held';
        c.client.pause();
        c.upstream?.pause();
      }
    }
  }

  /** Lets traffic from `source` (every rule when omitted) through again. */
  heal(source?: string): void {
    if (source === undefined) this.rules.clear();
    else this.rules.delete(source);
    for (const c of [...this.conns]) {
      if (this.ruleFor(c.source) !== undefined) continue;
      if (c.state === 'blackhole') this.reset(c);
      else if (c.state === 'held') this.release(c);
    }
  }

  /**
   * Sends new connections to `port` from now on, as a switched DNS name or load balancer does;
   * open ones stay with the old target (cut them first to move every client).
   */
  retarget(port: number): void {
    this.targetPort = port;
  }

  /** The switch of the directed link `source → target`. */
  link(source: string): LinkSwitch {
    return { cut: (mode?: CutMode) => this.cut(mode, source), heal: () => this.heal(source) };
  }

  /** Stops listening and resets every connection of this proxy. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.conns]) this.reset(c);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.ownsPort) releasePorts([this.port]);
  }

  /** The rule that applies to a connection from `source` (undefined = forward). */
  private ruleFor(source: string | undefined): CutMode | undefined {
    const all = this.rules.get(ALL);
    if (all) return all;
    if (source !== undefined) return this.rules.get(source);
    // Unknown source: the strictest active rule, so that a cut never leaks.
    const modes = new Set(this.rules.values());
    return (['refuse', 'blackhole', 'hold'] as const).find((m) => modes.has(m));
  }

  private accept(client: net.Socket): void {
    this.counters.accepted++;
    client.on('error', () => {}); // a reset by the peer ends in 'close', handled below
    if (this.closed || this.conns.size >= (this.o.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      client.resetAndDestroy();
      return;
    }
    let source: string | undefined;
    try {
      source = this.o.identify?.(client);
    } catch {
      source = undefined;
    }
    if (source === undefined && this.o.identify) this.counters.unidentified++;
    const rule = this.ruleFor(source);
    if (rule === 'refuse') {
      this.counters.refused++;
      client.resetAndDestroy();
      return;
    }
    const state = rule === 'blackhole' ? 'blackhole' : rule === 'hold' ? 'held' : 'forward';
    const c: Conn = { client, source, state, queued: [], closedWhileHeld: false };
    this.conns.add(c);
    client.setNoDelay(true);
    client.on('close', () => this.gone(c));
    client.on('data', (chunk) => this.onData(c, chunk, 'up'));
    client.on('end', () => this.onEnd(c, 'up'));
    client.on('drain', () => {
      if (c.state !== 'held') c.upstream?.resume();
    });
    if (state === 'blackhole') {
      this.counters.blackholed++;
      client.resume();
    } else if (state === 'held') {
      this.counters.held++; // stays paused, not yet dialled: the heal dials (a late SYN)
    } else {
      this.counters.forwarded++;
      this.dial(c);
    }
  }

  /** Opens the upstream side of `c` and starts forwarding once it is connected. */
  private dial(c: Conn): void {
    const up = net.connect({ host: this.o.targetHost ?? '127.0.0.1', port: this.targetPort, noDelay: true, allowHalfOpen: true });
    c.upstream = up;
    up.on('error', () => {});
    up.on('close', () => this.gone(c));
    up.on('data', (chunk) => this.onData(c, chunk, 'down'));
    up.on('end', () => this.onEnd(c, 'down'));
    up.on('drain', () => {
      if (c.state !== 'held') c.client.resume();
    });
    up.once('connect', () => {
      if (c.state !== 'held') c.client.resume();
    });
  }

  /** A held connection whose link healed: what was held passes, in order, then forwarding goes on. */
  private release(c: Conn): void {
    c.state = 'forward';
    if (c.closedWhileHeld) return this.gone(c);
    if (!c.upstream) return this.dial(c);
    for (const { dir, chunk } of c.queued.splice(0)) {
      if (chunk === undefined) this.onEnd(c, dir);
      else this.onData(c, chunk, dir);
    }
    c.client.resume();
    c.upstream.resume();
  }

  /** One chunk in direction `dir` (`up` = client → target): passed on, dropped (blackhole) or kept (held). */
  private onData(c: Conn, chunk: Buffer | string, dir: 'up' | 'down'): void {
    if (c.state === 'blackhole') return;
    const [from, to] = dir === 'up' ? [c.client, c.upstream] : [c.upstream, c.client];
    if (c.state === 'held') {
      c.queued.push({ dir, chunk });
      from?.pause();
      return;
    }
    if (!to || to.destroyed) return;
    if (!to.write(chunk)) from?.pause();
  }

  /** One side ended its writing (`dir` as in {@link onData}): passed on, or kept while held. */
  private onEnd(c: Conn, dir: 'up' | 'down'): void {
    if (c.state === 'held') c.queued.push({ dir });
    else if (c.state === 'forward') (dir === 'up' ? c.upstream : c.client)?.end();
  }

  /**
   * One side closed: the other goes too (at the heal, if held). A plain destroy, not a reset:
   * what the kernel already holds of an orderly shutdown still reaches the other side.
   */
  private gone(c: Conn): void {
    if (c.state === 'held') {
      c.closedWhileHeld = true;
      return;
    }
    if (!this.conns.delete(c)) return;
    c.client.destroy();
    c.upstream?.destroy();
  }

  private reset(c: Conn): void {
    this.conns.delete(c);
    c.client.resetAndDestroy();
    c.upstream?.resetAndDestroy();
  }
}

/**
 * The pid, among `candidates`, of the process that owns the client end of `socket` (a
 * connection accepted on 127.0.0.1), or undefined. Linux only: the client end's port and our
 * listening port pick its line in /proc/net/tcp (or tcp6), whose inode is then looked for among
 * the candidates' open file descriptors.
 */
export function connectingPid(socket: net.Socket, candidates: readonly number[]): number | undefined {
  const clientPort = socket.remotePort;
  const serverPort = socket.localPort;
  if (clientPort === undefined || serverPort === undefined) return undefined;
  const inode = socketInode(clientPort, serverPort);
  if (inode === undefined) return undefined;
  const link = `socket:[${inode}]`;
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return pid;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** The inode of the TCP socket whose local port is `localPort` and remote port `remotePort`. */
function socketInode(localPort: number, remotePort: number): string | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !f[1]?.includes(':')) continue;
      const lp = parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16);
      const rp = parseInt(f[2]!.slice(f[2]!.lastIndexOf(':') + 1), 16);
      if (lp === localPort && rp === remotePort && f[9] !== '0') return f[9];
    }
  }
  return undefined;
}
