/**
 * The native `zookeeper` npm package (7.x: a Node addon over Apache ZooKeeper's 3.8 C client)
 * against Coracle and against a real ZooKeeper 3.8, with the same scenario on both and the
 * transcripts compared line by line: creates in every mode (persistent, sequential, ephemeral,
 * container, TTL) and their errors, get/set with versions and binary data, children, one-shot
 * watches (exists on a missing node, data, children), versioned delete, digest auth and ACLs,
 * sync, getconfig, a chroot in the connect string, reconfig (refused), and a session close that removes the session's ephemerals and fires the
 * watches of another client. The package has no multi/transaction call, so there is none here.
 *
 * zxids differ between the servers (Coracle's come from its core revision), so each transcript
 * writes them as ranks among the zxids it saw; times are checked for ctime == mtime and for
 * being recent; an ephemeral owner is written as the client (A or B) whose session it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoracle, type CoracleServer } from '../support/coracle-server';
import { peersRequired, requirePeer } from '../support/peers';
import { startZookeeper, type ZookeeperPeer } from '../support/zookeeper-peer';
import {
  EventLog, NativeClient, NativeStat, NativeZookeeperModule, connectNative, errorCode, loadNativeZookeeper, within,
} from './zk-native-npm-client';

/** Stat as a transcript line; zxids are marked for ranking, owners named. */
function statLine(s: NativeStat, owners: Map<string, string>): string {
  const ms = (t: Date | number): number => (t instanceof Date ? t.getTime() : t);
  const recent = Math.abs(Date.now() - ms(s.ctime)) < 10 * 60_000 || ms(s.ctime) === 0;
  const owner = s.ephemeralOwner === '0' ? '0' : owners.get(s.ephemeralOwner) ?? `unknown(${s.ephemeralOwner})`;
  return `czxid=<${s.czxid}> mzxid=<${s.mzxid}> pzxid=<${s.pzxid}> ctime==mtime:${ms(s.ctime) === ms(s.mtime)} recent:${recent} `
    + `version=${s.version} cversion=${s.cversion} aversion=${s.aversion} owner=${owner} len=${s.dataLength} children=${s.numChildren}`;
}

/** Replaces each `<zxid>` by its rank among the distinct zxids of the transcript. */
function rankZxids(lines: string[]): string[] {
  const seen = new Set<number>();
  for (const l of lines) for (const m of l.matchAll(/<(\d+)>/g)) seen.add(Number(m[1]));
  const rank = new Map([...seen].sort((a, b) => a - b).map((z, i) => [z, i]));
  return lines.map((l) => l.replace(/<(\d+)>/g, (_, z: string) => `z${rank.get(Number(z))}`));
}

/** The scenario; returns its transcript (one line per observation). */
async function scenario(zk: NativeZookeeperModule, connect: string): Promise<string[]> {
  const C = zk.constants;
  const out: string[] = [];
  const rec = (what: string, v: unknown): void => void out.push(`${what}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const a = await connectNative(zk, connect);
  let b: NativeClient | undefined;
  let aOpen = true;
  try {
    b = await connectNative(zk, connect);
    const owners = new Map([[a.native.client_id, 'A'], [b.native.client_id, 'B']]);
    const stat = (s: NativeStat): string => statLine(s, owners);

    rec('create persistent', await within('create', a.create('/napp', 'v0', C.ZOO_PERSISTENT!)));
    rec('create child', await within('create', a.create('/napp/p', '', C.ZOO_PERSISTENT!)));
    rec('create sequential', await within('create', a.create('/napp/q-', 'q', C.ZOO_PERSISTENT_SEQUENTIAL!)));
    rec('create sequential', await within('create', a.create('/napp/q-', 'q', C.ZOO_PERSISTENT_SEQUENTIAL!)));
    rec('create ephemeral', await within('create', a.create('/napp/e', 'eph', C.ZOO_EPHEMERAL!)));
    rec('create ephemeral sequential', await within('create', a.create('/napp/es-', '', C.ZOO_EPHEMERAL_SEQUENTIAL!)));
    rec('create container', await within('create', a.create('/napp/box', '', C.ZOO_CONTAINER!)));
    rec('create ttl', await within('create', a.create('/napp/ttl', 't', C.ZOO_PERSISTENT_WITH_TTL!, 60_000)));
    rec('stat ephemeral', stat(await within('exists', b.exists('/napp/e', false))));
    rec('stat ttl', stat(await within('exists', b.exists('/napp/ttl', false))));
    rec('create existing', await errorCode(a.create('/napp', '', C.ZOO_PERSISTENT!)));
    rec('create without parent', await errorCode(a.create('/none/x', '', C.ZOO_PERSISTENT!)));
    rec('create under ephemeral', await errorCode(a.create('/napp/e/x', '', C.ZOO_PERSISTENT!)));
    rec('create ttl without ttl', await errorCode(a.create('/napp/ttl2', '', C.ZOO_PERSISTENT_WITH_TTL!)));

    const [s0, d0] = await within('get', a.get('/napp', false));
    rec('get', `${d0.toString()} ${stat(s0)}`);
    rec('set wrong version', await errorCode(a.set('/napp', 'v1', 5)));
    rec('set version 0', stat(await within('set', a.set('/napp', 'v1', 0))));
    rec('set any version (-1)', stat(await within('set', a.set('/napp', 'v2', -1))));
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await within('set', a.set('/napp/p', bytes, -1));
    const [, d1] = await within('get', b.get('/napp/p', false));
    rec('binary round trip', Buffer.compare(d1, bytes) === 0);
    const big = Buffer.alloc(300 * 1024, 7);
    await within('set', a.set('/napp/q-0000000002', big, -1));
    const [bigStat, bigData] = await within('get', b.get('/napp/q-0000000002', false));
    rec('300 KiB round trip', `${Buffer.compare(bigData, big) === 0} len=${bigStat.dataLength}`);
    rec('children', (await within('children', b.get_children('/napp', false))).sort());
    const [kids2, parent] = await within('children2', b.get_children2('/napp', false));
    rec('children2', `${kids2.length} ${stat(parent)}`);
    rec('exists missing', await errorCode(b.exists('/napp/later', false)));

    // One-shot watches, each answered by one event and then gone.
    const ev = new EventLog();
    rec('exists watch on missing node', await errorCode(b.w_exists('/napp/later', ev.watcher)));
    await within('create', a.create('/napp/later', '', C.ZOO_PERSISTENT!));
    rec('event', await ev.next());
    await within('get', b.w_get('/napp', ev.watcher));
    await within('set', a.set('/napp', 'v3', -1));
    rec('event', await ev.next());
    await within('set', a.set('/napp', 'v4', -1));
    await within('get_children', b.w_get_children('/napp', ev.watcher));
    await within('create', a.create('/napp/k', '', C.ZOO_PERSISTENT!));
    rec('event', await ev.next());
    await within('exists', b.w_exists('/napp/later', ev.watcher));
    await within('delete', a.delete_('/napp/later', -1));
    rec('event', await ev.next());
    rec('no further event', await ev.next(300));

    rec('delete wrong version', await errorCode(a.delete_('/napp/p', 5)));
    rec('delete with children', await errorCode(a.delete_('/napp', -1)));
    rec('delete version 1', await errorCode(a.delete_('/napp/p', 1)));
    rec('deleted', await errorCode(b.exists('/napp/p', false)));

    // Digest auth; the "auth" scheme stands for the caller's authenticated ids.
    rec('add_auth', await within('add_auth', new Promise<string>((resolve) => a.add_auth('digest', 'alice:secret', (rc) => resolve(String(rc))))));
    await within('create', a.create('/napp/secure', 's', C.ZOO_PERSISTENT!));
    rec('set_acl', await errorCode(a.set_acl('/napp/secure', 0, [{ perms: 31, scheme: 'auth', auth: '' }])));
    rec('set_acl wrong version', await errorCode(a.set_acl('/napp/secure', 0, [{ perms: 31, scheme: 'auth', auth: '' }])));
    const [acl, aclStat] = await within('get_acl', a.get_acl('/napp/secure'));
    rec('get_acl', `${JSON.stringify(acl)} ${stat(aclStat)}`);
    rec('get without auth', await errorCode(b.get('/napp/secure', false)));
    rec('get with auth', (await within('get', a.get('/napp/secure', false)))[1].toString());
    rec('sync', await within('sync', a.sync('/napp')));
    const [cfgStat, cfg] = await within('getconfig', b.getconfig(false));
    rec('getconfig', `'${cfg.toString()}' ${stat(cfgStat)}`);

    // A chroot in the connect string: the C client prefixes requests and strips events.
    const ch = await connectNative(zk, `${connect}/napp`);
    try {
      rec('chroot create', await within('create', ch.create('/c1', 'x', C.ZOO_PERSISTENT!)));
      const cev = new EventLog();
      await within('get', ch.w_get('/c1', cev.watcher));
      await within('set', a.set('/napp/c1', 'y', -1));
      rec('chroot event', await cev.next());
      rec('chroot children', (await within('children', ch.get_children('/', false))).sort());
    } finally {
      ch.close();
    }
    rec('sequential ttl', await within('create', a.create('/napp/st-', '', C.ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL!, 60_000)));
    rec('reconfig', await errorCode(a.reconfig('server.5=127.0.0.1:1234:1235;1236', null, null, -1)));

    // A's session ends: its two ephemerals go, B's watches on them and on the parent fire.
    const gone = new EventLog();
    await within('get_children', b.w_get_children('/napp', gone.watcher));
    await within('exists', b.w_exists('/napp/e', gone.watcher));
    a.close();
    aOpen = false;
    // The server deletes the ephemerals in an order of its own: sort the two events.
    rec('events after close', [await gone.next(), await gone.next()].sort());
    rec('children after close', (await within('children', b.get_children('/napp', false))).sort());
    rec('parent after close', stat(await within('exists', b.exists('/napp', false))));
    return rankZxids(out);
  } finally {
    if (aOpen) a.close();
    b?.close();
  }
}

test('the native zookeeper npm package gives the same transcript on Coracle as on ZooKeeper 3.8', { timeout: 120_000 }, async (t) => {
  const load = loadNativeZookeeper();
  if ('missing' in load) {
    if (peersRequired()) throw new Error(`peer missing: ${load.missing} [CORACLE_REQUIRE_PEERS=1]`);
    return t.skip(load.missing);
  }
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const started = await Promise.allSettled([
    startZookeeper({ jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true'], logLevel: 'warn' }),
    startCoracle(),
  ]);
  const zk = started[0].status === 'fulfilled' ? started[0].value : undefined;
  const coracle = started[1].status === 'fulfilled' ? started[1].value : undefined;
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const expected = await scenario(load.module, (zk as ZookeeperPeer).connectString);
    const actual = await scenario(load.module, `127.0.0.1:${(coracle as CoracleServer).zkPort}`);
    t.diagnostic(`ZooKeeper ${(zk as ZookeeperPeer).version}:\n${expected.join('\n')}`);
    // Sanity on ZooKeeper's own transcript: the scenario says what it means to.
    assert.ok(expected.includes('create sequential: /napp/q-0000000002'), expected.join('\n'));
    assert.ok(expected.includes('events after close: ["2 3 /napp/e","4 3 /napp"]'), expected.join('\n'));
    assert.deepEqual(actual, expected);
  } finally {
    await coracle?.stop();
    await zk?.stop();
  }
});
