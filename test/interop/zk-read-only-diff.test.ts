/**
 * Differential test of ZooKeeper read-only mode: the same scenario against a 3-server Apache
 * ZooKeeper 3.8 ensemble run with `-Dreadonlymode.enabled=true` and against a 3-member Coracle
 * cluster run with `--zk-read-only-mode`, one after the other (never both at once: two cores).
 *
 * 1. Healthy: znodes are written through a follower; a client that owns an ephemeral stays
 *    connected to it.
 * 2. The leader and the other follower are stopped; the follower left alone must switch to
 *    read-only (`isro` = `ro`, polled for at most 30 s) and drop the connection it had.
 * 3. On it: `srvr`/`mntr`; handshakes without canBeReadOnly, with it for a new session, for the
 *    session of step 1, for an unknown session, and resuming a read-only session on a second
 *    connection; reads of the znodes of step 1; every state-changing op (NOTREADONLY); watches,
 *    auth, whoAmI, ping, closeSession.
 * 4. The two are started again: the read-only connection is closed by the server, `isro` says
 *    `rw`, and a new client gets a read/write session and can write.
 *
 * Replies are compared field by field across the two systems without zxids, times and session
 * ids (support/zk-reply-diff.ts). Within each system, stats read in read-only mode must equal
 * those read while healthy (zxids and times included), and every reply header's zxid must not
 * be below the last zxid seen before the split. Read-only zxids are not compared across the
 * systems: a ZooKeeper read-only server may run createSession/closeSession txns of its own, so
 * its zxid can move while Coracle's does not. CORACLE_TLS_DIFF_TRACE=1 prints every step's two
 * answers.
 *
 * ZooKeeper runs with local sessions (support/zk-ensemble.ts): without them its read-only
 * server answers every new session's createSession with NOTREADONLY. Its step-1 session is made global by its ephemeral, so it
 * is what every Coracle session is: a session of the replicated store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkWireClient, type WireClientOptions, type WireReply } from '../../zkproxy/dispatch/zk-wire-client';
import { errName, type Acl, type Stat, type ZkRequest } from '../../protocol/jute';
import { CoracleCluster, type ClusterMember } from '../support/cluster';
import { requirePeer } from '../support/peers';
import { pollUntil } from '../support/poll';
import { differentialRun, normalize, within, WireSessions, type Transcript } from '../support/zk-reply-diff';
import { startZkEnsemble } from '../support/zk-ensemble';
import { fourLetterWord } from '../support/zookeeper-peer';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const ROOT = '/ro-diff';
/** Healthy znodes whose stats must survive the split unchanged. */
const NODES = [ROOT, `${ROOT}/a`, `${ROOT}/b`];
/** The ephemeral of the session kept over the split (outside ROOT: its expiry after the restart is timed). */
const EPHEMERAL = '/ro-diff-owned';
/** Bound on the survivor switching to read-only after the split (ZooKeeper waits 2 s). */
const ENTER_TIMEOUT_MS = 30_000;
/** Bound on the quorum coming back after the restart (two JVMs starting on two cores, election). */
const HEAL_TIMEOUT_MS = 60_000;

/** A running system: the port of the follower kept alive, and how to split and heal it. */
interface System {
  survivorPort: number;
  /** Stops the leader and the other follower. */
  split(): Promise<void>;
  /** Starts them again (the quorum may still be forming when this returns). */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** One side of the differential run. */
interface Side {
  name: 'zookeeper' | 'coracle';
  start(): Promise<System>;
}

const word = (port: number, w: string): Promise<string> => fourLetterWord('127.0.0.1', port, w, 2000);
const mode = async (port: number): Promise<string | undefined> => /\nMode: ([\w-]+)\n/.exec(await word(port, 'srvr'))?.[1];
const mntrState = async (port: number): Promise<string | undefined> => /^zk_server_state\t(.*)$/m.exec(await word(port, 'mntr'))?.[1];

async function startZookeeperSystem(): Promise<System> {
  const ens = await startZkEnsemble({ readOnlyMode: true });
  const survivor = (ens.leader + 1) % 3;
  const others = [ens.leader, (ens.leader + 2) % 3];
  return {
    survivorPort: ens.clientPorts[survivor]!,
    split: async () => {
      await Promise.all(others.map((i) => ens.stopServer(i)));
    },
    heal: async () => {
      for (const i of others) ens.startServer(i);
    },
    close: () => ens.stop(),
  };
}

async function startCoracleSystem(): Promise<System> {
  const cluster = await CoracleCluster.start({ size: 3, zk: true, extraArgs: ['--zk-read-only-mode'] });
  try {
    for (const m of cluster.members) await pollUntil(`${m.name}'s ZooKeeper port`, async () => ((await word(m.zkPort!, 'ruok').catch(() => '')) === 'imok' ? true : undefined), 20_000, 100);
    const leader = await cluster.leader();
    const survivor = cluster.members.find((m) => m !== leader)!;
    const others = cluster.members.filter((m) => m !== survivor);
    // The survivor must be a follower here too, with the leader's writes applied.
    await pollUntil('the survivor a follower', async () => ((await mode(survivor.zkPort!)) === 'follower' ? true : undefined), 10_000, 100);
    return {
      survivorPort: survivor.zkPort!,
      split: async () => {
        await Promise.all(others.map((m: ClusterMember) => m.process!.stop()));
      },
      heal: async () => {
        await Promise.all(others.map((m) => cluster.restart(m)));
      },
      close: () => cluster.close(),
    };
  } catch (err) {
    await cluster.close();
    throw err;
  }
}

/** The labelled answers of one run, and the per-system checks on zxids. */
class Run {
  readonly transcript: Transcript = [];
  /** Highest zxid seen before the split. */
  zxidBefore = 0n;
  private readonly clients = new Set<ZkWireClient>();

  constructor(readonly side: string, readonly port: number) {}

  note(label: string, value: unknown): void {
    this.transcript.push([label, value]);
  }

  /** A handshake on the survivor; notes its outcome (refused, or the ConnectResponse without ids). */
  async connect(label: string, opts: Partial<WireClientOptions>): Promise<ZkWireClient | undefined> {
    try {
      const c = await within(ZkWireClient.connect({ host: '127.0.0.1', port: this.port, timeoutMs: 10_000, ...opts }), 10_000, `${this.side} ${label}`);
      this.clients.add(c);
      const s = c.session;
      if (s.sessionId !== 0n) {
        this.note(label, { readOnly: s.readOnly, timeOut: s.timeOut, session: 'assigned' });
        return c;
      }
      // No session (expired or unknown): the server closes after answering.
      this.note(label, { readOnly: s.readOnly, timeOut: s.timeOut, session: 'none', closedByServer: await c.waitClosed(5000) });
      return undefined;
    } catch (err) {
      this.note(label, { refused: (err as Error).message });
      return undefined;
    }
  }

  /** Sends `req`, notes the normalized reply under `label` and returns the reply itself. */
  async ask(label: string, c: ZkWireClient | undefined, req: ZkRequest): Promise<WireReply | undefined> {
    if (!c) {
      this.note(label, { failed: 'no session' });
      return undefined;
    }
    try {
      const r = await within(c.send(req), 5000, `${this.side} ${label}`);
      this.note(label, shape(r));
      return r;
    } catch (err) {
      this.note(label, { failed: (err as Error).message });
      return undefined;
    }
  }

  /** Asserts that a reply's zxid is not below the last one seen before the split. */
  notBelowSplit(label: string, r: WireReply | undefined): void {
    if (r) assert.ok(r.header.zxid >= this.zxidBefore, `${this.side} ${label}: zxid ${r.header.zxid} below ${this.zxidBefore} seen before the split`);
  }

  dropAll(): void {
    for (const c of this.clients) c.drop();
    this.clients.clear();
  }
}

/** A reply without zxids, times and session ids; children and whoAmI lists sorted (their order is unspecified). */
function shape(r: WireReply): unknown {
  let body = r.body;
  if (body === undefined) return { err: errName(r.header.err) };
  if (body.op === 'getChildren' || body.op === 'getChildren2') body = { ...body, children: [...body.children].sort() };
  if (body.op === 'whoAmI') body = { ...body, clientInfo: [...body.clientInfo].sort((x, y) => x.authScheme.localeCompare(y.authScheme)) };
  return { err: errName(r.header.err), body: normalize(body) };
}

function statOf(r: WireReply | undefined): Stat | undefined {
  const b = r?.body;
  return b && 'stat' in b ? b.stat : undefined;
}

/** Step 1: znodes written through the survivor; returns their stats and a client left connected. */
async function healthy(run: Run): Promise<{ stats: Map<string, Stat | undefined>; kept: ZkWireClient | undefined }> {
  run.note('healthy srvr Mode', await mode(run.port));
  const w = await run.connect('healthy connect (no canBeReadOnly)', { canBeReadOnly: false });
  const writes: Array<[string, ZkRequest]> = [
    ['create root', { op: 'create', path: ROOT, data: Buffer.from('root'), acl: OPEN, flags: 0 }],
    ['create a', { op: 'create', path: `${ROOT}/a`, data: Buffer.from('alpha'), acl: OPEN, flags: 0 }],
    ['create b', { op: 'create2', path: `${ROOT}/b`, data: Buffer.from('beta'), acl: OPEN, flags: 0 }],
    ['setData a', { op: 'setData', path: `${ROOT}/a`, data: Buffer.from('alpha-2'), version: 0 }],
  ];
  for (const [label, req] of writes) {
    const r = await run.ask(label, w, req);
    if (r && r.header.zxid > run.zxidBefore) run.zxidBefore = r.header.zxid;
  }
  await run.ask('healthy closeSession', w, { op: 'closeSession' });
  const kept = await run.connect('healthy connect (canBeReadOnly)', { canBeReadOnly: true });
  await run.ask('create ephemeral', kept, { op: 'create', path: EPHEMERAL, data: null, acl: OPEN, flags: 1 });
  const stats = new Map<string, Stat | undefined>();
  for (const p of NODES) stats.set(p, statOf(await run.ask(`healthy getData ${p}`, kept, { op: 'getData', path: p, watch: false })));
  return { stats, kept };
}

/** Step 3: what a read-only survivor answers. */
async function readOnly(run: Run, stats: Map<string, Stat | undefined>, kept: ZkWireClient | undefined): Promise<void> {
  run.note('isro', (await word(run.port, 'isro')).trim());
  run.note('srvr Mode', await mode(run.port));
  run.note('mntr zk_server_state', await mntrState(run.port));
  run.note('connection open at the split closed by the server', kept ? await kept.waitClosed(5000) : 'no session');
  await run.connect('connect without canBeReadOnly', { canBeReadOnly: false });
  await run.connect('connect without the readOnly byte (old client)', { readOnly: false });
  if (kept) await run.connect('reconnect the session of before the split (canBeReadOnly)', { canBeReadOnly: true, sessionId: kept.session.sessionId, passwd: kept.session.passwd });
  await run.connect('connect to an unknown session (canBeReadOnly)', { canBeReadOnly: true, sessionId: 0x7e57_0000_0000_0001n, passwd: Buffer.alloc(16) });
  const first = await run.connect('connect (canBeReadOnly)', { canBeReadOnly: true });
  const c = first && await run.connect('resume the read-only session on a new connection', { canBeReadOnly: true, sessionId: first.session.sessionId, passwd: first.session.passwd });
  run.note('the first connection of the resumed session closed by the server', first ? await first.waitClosed(5000) : 'no session');
  if (first && c) assert.equal(c.session.sessionId, first.session.sessionId, `${run.side}: the same session resumed`);
  const read = async (label: string, req: ZkRequest): Promise<WireReply | undefined> => {
    const r = await run.ask(label, c, req);
    run.notBelowSplit(label, r);
    return r;
  };
  for (const p of NODES) {
    const r = await read(`getData ${p}`, { op: 'getData', path: p, watch: false });
    assert.deepEqual(statOf(r), stats.get(p), `${run.side}: the stat of ${p} read-only equals the healthy one`);
  }
  await read('exists b', { op: 'exists', path: `${ROOT}/b`, watch: false });
  await read('exists missing', { op: 'exists', path: `${ROOT}/missing`, watch: false });
  await read('getData missing', { op: 'getData', path: `${ROOT}/missing`, watch: false });
  await read('getChildren2 root', { op: 'getChildren2', path: ROOT, watch: false });
  await read('getChildren root', { op: 'getChildren', path: ROOT, watch: false });
  await read('getACL root', { op: 'getACL', path: ROOT });
  await read('getAllChildrenNumber root', { op: 'getAllChildrenNumber', path: ROOT });
  await read('getEphemerals /', { op: 'getEphemerals', prefixPath: '/' });
  await read('multiRead', { op: 'multiRead', ops: [{ op: 'getData', path: `${ROOT}/a`, watch: false }, { op: 'getChildren', path: ROOT, watch: false }] });
  const refused: Array<[string, ZkRequest]> = [
    ['sync', { op: 'sync', path: ROOT }],
    ['create', { op: 'create', path: `${ROOT}/x`, data: Buffer.from('x'), acl: OPEN, flags: 0 }],
    ['create2', { op: 'create2', path: `${ROOT}/x`, data: null, acl: OPEN, flags: 0 }],
    ['createTTL', { op: 'createTTL', path: `${ROOT}/x`, data: null, acl: OPEN, flags: 5, ttl: 60_000n }],
    ['createContainer', { op: 'createContainer', path: `${ROOT}/x`, data: null, acl: OPEN, flags: 4 }],
    ['delete', { op: 'delete', path: `${ROOT}/b`, version: -1 }],
    ['deleteContainer', { op: 'deleteContainer', path: `${ROOT}/b` }],
    ['setData', { op: 'setData', path: `${ROOT}/a`, data: Buffer.from('no'), version: -1 }],
    ['reconfig', { op: 'reconfig', joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n }],
    ['setACL', { op: 'setACL', path: `${ROOT}/a`, acl: OPEN, version: -1 }],
    ['multi', { op: 'multi', ops: [{ op: 'check', path: `${ROOT}/a`, version: 1 }, { op: 'delete', path: `${ROOT}/b`, version: -1 }] }],
    ['check', { op: 'check', path: `${ROOT}/a`, version: 1 }],
  ];
  for (const [label, req] of refused) await read(`read-only ${label}`, req);
  for (const p of NODES) {
    const r = await read(`getData ${p} after the refused ops`, { op: 'getData', path: p, watch: false });
    assert.deepEqual(statOf(r), stats.get(p), `${run.side}: ${p} unchanged by the refused ops`);
  }
  await read('getData the ephemeral', { op: 'getData', path: EPHEMERAL, watch: false });
  await read('getData a with a watch', { op: 'getData', path: `${ROOT}/a`, watch: true });
  await read('exists missing with a watch', { op: 'exists', path: `${ROOT}/missing`, watch: true });
  await run.ask('auth digest', c, { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('reader:secret') });
  await read('whoAmI', { op: 'whoAmI' });
  await run.ask('ping', c, { op: 'ping' });
  await read('closeSession', { op: 'closeSession' });
  run.note('closeSession closes the connection', c ? await c.waitClosed(5000) : 'no session');
}

/** Step 4: the quorum back; `held` is a read-only connection open during the restart. */
async function healed(run: Run, system: System, held: ZkWireClient | undefined): Promise<void> {
  await system.heal();
  run.note('read-only connection closed by the server after the restart', held ? await held.waitClosed(HEAL_TIMEOUT_MS) : 'no session');
  run.note('isro after the restart', await pollUntil(`${run.side}: isro rw`, async () => {
    const r = (await word(run.port, 'isro').catch(() => '')).trim();
    return r === 'rw' ? r : undefined;
  }, HEAL_TIMEOUT_MS, 200));
  run.note('srvr Mode after the restart is a quorum role', ['leader', 'follower'].includes((await mode(run.port)) ?? ''));
  const c = await run.connect('connect after the restart (canBeReadOnly)', { canBeReadOnly: true });
  const r = await run.ask('create2 c after the restart', c, { op: 'create2', path: `${ROOT}/c`, data: Buffer.from('gamma'), acl: OPEN, flags: 0 });
  const czxid = statOf(r)?.czxid;
  const answer = JSON.stringify(run.transcript.slice(-2), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  assert.ok(czxid !== undefined && czxid > run.zxidBefore, `${run.side}: the write after the restart has zxid ${czxid} above ${run.zxidBefore}; answers ${answer}`);
  await run.ask('getChildren2 root after the restart', c, { op: 'getChildren2', path: ROOT, watch: false });
  await run.ask('getData a after the restart', c, { op: 'getData', path: `${ROOT}/a`, watch: false });
}

/** The whole scenario on one side; the system runs only for the length of this call. */
async function scenario(side: Side): Promise<Transcript> {
  const system = await side.start();
  const run = new Run(side.name, system.survivorPort);
  try {
    const { stats, kept } = await healthy(run);
    await system.split();
    await pollUntil(`${side.name}: isro ro on the survivor`, async () => ((await word(run.port, 'isro').catch(() => '')).trim() === 'ro' ? true : undefined), ENTER_TIMEOUT_MS, 200);
    await readOnly(run, stats, kept);
    const held = await run.connect('read-only connection held over the restart', { canBeReadOnly: true });
    await healed(run, system, held);
    return run.transcript;
  } finally {
    run.dropAll();
    await system.close();
  }
}

test('read-only mode: what clients see on a member cut off from its quorum matches Apache ZooKeeper 3.8', { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  await differentialRun(t, {
    zookeeper: { name: 'zookeeper', start: startZookeeperSystem },
    coracle: { name: 'coracle', start: startCoracleSystem },
  }, new WireSessions(), scenario);
});
