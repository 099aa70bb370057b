/**
 * Random ZooKeeper programs for the cross-checker (zk-random-crosscheck.test.ts): where the
 * scripted workloads (zk-workload.ts, zk-edge-workload.ts) test what we thought of, these test
 * what nobody did. A program is a list of abstract steps drawn by fast-check from a seed; the
 * runner resolves each step against the paths that exist so far (sequential creates add the
 * names the server returned), so most steps hit a real node, a missing one or a conflict,
 * which is where servers differ. Steps run one at a time across three sessions (the
 * cross-checker compares zxids in one global order), and a session may close mid-program:
 * its ephemerals go and their watches fire. Creates draw their ACL from the same set as setACL
 * (so reads, writes and notifications meet nodes a session may not touch), and a session may
 * resume on a new connection, miss a change made meanwhile by another session, and re-send
 * the watches it holds (kept as the Java client keeps them, zk-client-watches.ts) in
 * SetWatches2 from its last zxid. A burst sends several writes before any reply (pipelined),
 * among them rewrites of one node.
 *
 * `check` runs only inside multi: ZooKeeper 3.8.0 (the oracle) never answers a standalone one
 * (its request processor has no reply for it outside a multi), so there is nothing to compare.
 */
import fc from 'fast-check';
import { Acl, AddWatchMode, CreateMode, WatcherType, type ZkRequest } from '../../protocol/jute';
import { WireReply, ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { ClientWatches } from './zk-client-watches';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** ACLs a setACL step picks from: open, world read-only, bob's digest, world read + bob all. */
const ACLS: Acl[][] = [
  OPEN,
  [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: 31, id: { scheme: 'digest', id: 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=' } }],
  [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }, { perms: 31, id: { scheme: 'digest', id: 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=' } }],
];
/** Sessions a program drives. */
const SESSIONS = 3;
/** Names a random path is built from (few, so that paths collide). */
const NAMES = ['a', 'b', 'c'];

/** Where a step points: an existing path (by index, modulo) or a fresh child of one. */
interface Target {
  existing: boolean;
  index: number;
  name: number;
}

/** A sub-op of a multi. */
type SubStep =
  | { kind: 'create'; at: Target; mode: number; data: number; acl: number }
  | { kind: 'delete'; at: Target; version: number }
  | { kind: 'setData'; at: Target; version: number; data: number }
  | { kind: 'check'; at: Target; version: number };

/** One step of a program. */
export type Step =
  | { session: number; kind: 'create'; at: Target; mode: number; data: number; acl: number; variant: 'create' | 'create2' }
  | { session: number; kind: 'delete'; at: Target; version: number }
  | { session: number; kind: 'setData'; at: Target; version: number; data: number }
  | { session: number; kind: 'read'; at: Target; op: 'exists' | 'getData' | 'getChildren' | 'getChildren2'; watch: boolean }
  | { session: number; kind: 'multi'; ops: SubStep[] }
  | { session: number; kind: 'misc'; at: Target; op: 'sync' | 'getAllChildrenNumber' | 'getEphemerals' | 'getACL' }
  | { session: number; kind: 'addWatch'; at: Target; recursive: boolean }
  | { session: number; kind: 'removeWatches'; at: Target; type: number }
  | { session: number; kind: 'setACL'; at: Target; acl: number; version: number }
  | { session: number; kind: 'auth' }
  | { session: number; kind: 'multiRead'; ats: { at: Target; children: boolean }[] }
  | { session: number; kind: 'resume'; during: SubStep | null }
  | { session: number; kind: 'burst'; ops: SubStep[] }
  | { session: number; kind: 'reconnect' };

const target: fc.Arbitrary<Target> = fc.record({
  existing: fc.boolean(),
  index: fc.nat({ max: 1000 }),
  name: fc.nat({ max: NAMES.length - 1 }),
});
const version = fc.constantFrom(-1, -1, 0, 0, 1, 2);
const dataLen = fc.constantFrom(-1, 0, 1, 3);
// Persistent, ephemeral, their sequential forms, container, TTL and sequential TTL.
const mode = fc.constantFrom(
  CreateMode.PERSISTENT, CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL,
  CreateMode.EPHEMERAL_SEQUENTIAL, CreateMode.CONTAINER, CreateMode.PERSISTENT_WITH_TTL, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
);
const session = fc.nat({ max: SESSIONS - 1 });
/** A create's ACL (index into ACLS), mostly the open one. */
const createAcl = fc.constantFrom(0, 0, 0, 0, 1, 2, 3);

const subStep: fc.Arbitrary<SubStep> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), at: target, mode: fc.constantFrom(CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL), data: dataLen, acl: createAcl }),
  fc.record({ kind: fc.constant('delete' as const), at: target, version }),
  fc.record({ kind: fc.constant('setData' as const), at: target, version, data: dataLen }),
  fc.record({ kind: fc.constant('check' as const), at: target, version }),
);

/** One random step. */
export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ session, kind: fc.constant('create' as const), at: target, mode, data: dataLen, acl: createAcl, variant: fc.constantFrom('create' as const, 'create2' as const) }) },
  { weight: 3, arbitrary: fc.record({ session, kind: fc.constant('delete' as const), at: target, version }) },
  { weight: 3, arbitrary: fc.record({ session, kind: fc.constant('setData' as const), at: target, version, data: dataLen }) },
  { weight: 5, arbitrary: fc.record({ session, kind: fc.constant('read' as const), at: target, op: fc.constantFrom('exists' as const, 'getData' as const, 'getChildren' as const, 'getChildren2' as const), watch: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ session, kind: fc.constant('multi' as const), ops: fc.array(subStep, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('misc' as const), at: target, op: fc.constantFrom('sync' as const, 'getAllChildrenNumber' as const, 'getEphemerals' as const, 'getACL' as const) }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('addWatch' as const), at: target, recursive: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('removeWatches' as const), at: target, type: fc.constantFrom(WatcherType.Children, WatcherType.Data, WatcherType.Any, WatcherType.Persistent, WatcherType.PersistentRecursive) }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('reconnect' as const) }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('setACL' as const), at: target, acl: fc.nat({ max: ACLS.length - 1 }), version }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('auth' as const) }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('multiRead' as const), ats: fc.array(fc.record({ at: target, children: fc.boolean() }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('resume' as const), during: fc.option(subStep.filter((o) => o.kind !== 'check')) }) },
  { weight: 2, arbitrary: fc.record({ session, kind: fc.constant('burst' as const), ops: fc.array(subStep.filter((o) => o.kind !== 'check'), { minLength: 2, maxLength: 6 }) }) },
  // Rewrites of one node in a burst: each planned on the one before while it is in flight.
  { weight: 1, arbitrary: fc.record({ session, kind: fc.constant('burst' as const), ops: fc.tuple(target, fc.array(fc.record({ version, data: dataLen }), { minLength: 2, maxLength: 5 })).map(([at, xs]) => xs.map((x): SubStep => ({ kind: 'setData', at, ...x }))) }) },
);

/** `count` programs of `length` steps, the same for the same seed. */
export function programs(seed: number, count: number, length: number): Step[][] {
  return fc.sample(fc.array(step, { minLength: length, maxLength: length }), { seed, numRuns: count });
}

/** Runs one program under `root` (which must not exist), then removes `root`; returns the steps run. */
export async function runProgram(host: string, port: number, root: string, program: readonly Step[]): Promise<number> {
  // One session at a time, each answering a first request before the next step: the
  // cross-checker opens the oracle's mirror session after our handshake, and its first request
  // waits for that, so no other session's step can overtake the oracle's createSession.
  const watches: ClientWatches[] = [];
  /**
   * Opens session `i`, or resumes it on a new connection. A resumed session first lets `during`
   * run on another session (a change it may have missed while away), then re-sends its
   * watches from its last zxid, as a real client does after a reconnect.
   */
  const open = async (i: number, resumed?: ZkWireClient, during?: () => Promise<unknown>): Promise<ZkWireClient> => {
    const w = resumed ? watches[i]! : (watches[i] = new ClientWatches());
    const session = resumed ? { sessionId: resumed.session.sessionId, passwd: resumed.session.passwd, lastZxidSeen: w.lastZxid } : {};
    resumed?.drop();
    const c = await ZkWireClient.connect({ host, port, timeoutMs: 10_000, ...session, onNotification: (e) => w.onEvent(e) });
    await during?.();
    const rewatch = resumed ? w.setWatches() : undefined;
    if (rewatch) await send(c, w, rewatch);
    await c.send({ op: 'exists', path: root, watch: false });
    return c;
  };
  const clients: ZkWireClient[] = [];
  for (let i = 0; i < SESSIONS; i++) clients.push(await open(i));
  const paths = [root];
  const resolve = (t: Target): string => {
    const base = paths[t.index % paths.length]!;
    return t.existing ? base : `${base}/${NAMES[t.name]!}`;
  };
  const data = (n: number): Buffer | null => (n < 0 ? null : Buffer.alloc(n, 0x61 + n));
  const learn = (path: unknown): void => {
    if (typeof path === 'string' && !paths.includes(path)) paths.push(path);
  };
  try {
    await clients[0]!.send({ op: 'create', path: root, data: null, acl: OPEN, flags: 0 });
    let n = 0;
    for (const s of program) {
      if (s.kind === 'reconnect') {
        await clients[s.session]!.close();
        clients[s.session] = await open(s.session);
      } else if (s.kind === 'resume') {
        // The same session on a new connection: ephemerals stay, the client re-sends its
        // watches in SetWatches2 from its last zxid (the servers fire what it missed).
        const other = (s.session + 1) % SESSIONS;
        const during = s.during ? () => send(clients[other]!, watches[other]!, subRequest(s.during!, resolve, data)) : undefined;
        clients[s.session] = await open(s.session, clients[s.session]!, during);
      } else if (s.kind === 'burst') {
        // Writes sent before any reply (a pipelining client): committed in order.
        const replies = await Promise.all(s.ops.map((o) => send(clients[s.session]!, watches[s.session]!, subRequest(o, resolve, data))));
        for (const r of replies) learn((r.body as { path?: unknown } | undefined)?.path);
      } else {
        const reply = await send(clients[s.session]!, watches[s.session]!, request(s, resolve, data));
        learn((reply.body as { path?: unknown } | undefined)?.path);
        for (const r of (reply.body as { results?: { path?: unknown }[] } | undefined)?.results ?? []) learn(r.path);
      }
      n++;
    }
    return n;
  } finally {
    for (const c of clients) await c.close();
    await removeTree(host, port, root);
  }
}

/** Sends `req` and lets the session's watch tables see the reply. */
async function send(c: ZkWireClient, w: ClientWatches, req: ZkRequest): Promise<WireReply> {
  const reply = await c.send(req);
  w.onReply(req, reply.header.err, reply.header.zxid);
  return reply;
}

function request(s: Exclude<Step, { kind: 'reconnect' | 'resume' | 'burst' }>, at: (t: Target) => string, data: (n: number) => Buffer | null): ZkRequest {
  switch (s.kind) {
    case 'create': return createRequest(at(s.at), s.mode, data(s.data), ACLS[s.acl]!, s.variant);
    case 'delete': return { op: 'delete', path: at(s.at), version: s.version };
    case 'setData': return { op: 'setData', path: at(s.at), data: data(s.data), version: s.version };
    case 'read': return { op: s.op, path: at(s.at), watch: s.watch };
    case 'misc': return s.op === 'getEphemerals' ? { op: 'getEphemerals', prefixPath: at(s.at) } : { op: s.op, path: at(s.at) };
    case 'addWatch': return { op: 'addWatch', path: at(s.at), mode: s.recursive ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT };
    case 'removeWatches': return { op: 'removeWatches', path: at(s.at), type: s.type };
    case 'multi': return { op: 'multi', ops: s.ops.map((o) => subRequest(o, at, data)) };
    case 'setACL': return { op: 'setACL', path: at(s.at), acl: ACLS[s.acl]!, version: s.version };
    // Adds bob to the session (a failed auth would close the connection unanswered).
    case 'auth': return { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('bob:pw') };
    case 'multiRead': return { op: 'multiRead', ops: s.ats.map((r) => ({ op: r.children ? 'getChildren' as const : 'getData' as const, path: at(r.at), watch: false })) };
  }
}

function subRequest(o: SubStep, at: (t: Target) => string, data: (n: number) => Buffer | null): ZkRequest {
  switch (o.kind) {
    case 'create': return { op: 'create', path: at(o.at), data: data(o.data), acl: ACLS[o.acl]!, flags: o.mode };
    case 'delete': return { op: 'delete', path: at(o.at), version: o.version };
    case 'setData': return { op: 'setData', path: at(o.at), data: data(o.data), version: o.version };
    case 'check': return { op: 'check', path: at(o.at), version: o.version };
  }
}

function createRequest(path: string, mode: number, data: Buffer | null, acl: Acl[], variant: 'create' | 'create2'): ZkRequest {
  const base = { path, data, acl, flags: mode };
  if (mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL) {
    return { op: 'createTTL', ...base, ttl: 3_600_000n };
  }
  if (mode === CreateMode.CONTAINER) return { op: 'createContainer', ...base };
  return { op: variant, ...base };
}

/** Deletes `root` and everything below it, deepest first (through the checked port too). */
async function removeTree(host: string, port: number, root: string): Promise<void> {
  const c = await ZkWireClient.connect({ host, port, timeoutMs: 10_000 });
  try {
    await c.send({ op: 'exists', path: root, watch: false });
    const all: string[] = [];
    const walk = async (p: string): Promise<void> => {
      const r = await c.send({ op: 'getChildren', path: p, watch: false });
      if (r.header.err !== 0) return;
      all.push(p);
      for (const name of (r.body as { children: string[] }).children) await walk(`${p}/${name}`);
    };
    await walk(root);
    for (const p of all.reverse()) await c.send({ op: 'delete', path: p, version: -1 });
  } finally {
    await c.close();
  }
}
