/**
 * ZooKeeper's read-only mode (`--zk-read-only-mode`, ZooKeeper's readonlymode.enabled) on a
 * member cut off from its cluster (3 members, peer links through test/support/tcp-proxy.ts),
 * with the clients users run:
 *
 * - once the member knows no leader for max(2 s, tickTime), `isro` answers `ro` and `srvr` says
 *   `Mode: read-only`; a client that does not allow read-only sessions is refused;
 * - kazoo with `read_only=True` connects (state CONNECTED_RO), reads what the member had, and
 *   its writes fail with NotReadOnlyCallError; zkCli.sh with `-r` reads too and is refused its
 *   create (NotReadOnly);
 * - a read-only wire session gets NOTREADONLY for a write and sync, and its connection is
 *   closed once the partition heals; then `isro` answers `rw` and a read-only-capable client
 *   gets a read/write session whose writes the majority sees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { ClusterMember, CoracleCluster } from '../support/cluster';
import { kazoo } from '../support/kazoo';
import { requirePeer } from '../support/peers';
import { pollUntil } from '../support/poll';
import { zkCli } from '../support/zk-cli';
import { fourLetterWord } from '../support/zookeeper-peer';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function port(m: ClusterMember): number {
  assert.ok(m.zkPort !== undefined, 'cluster started without ZooKeeper ports');
  return m.zkPort;
}

/** Polls `isro` on `m` until it answers `want` (bounded). */
async function isro(m: ClusterMember, want: 'ro' | 'rw'): Promise<void> {
  await pollUntil(`isro = ${want} on ${m.name}`, async () => {
    const a = await fourLetterWord('127.0.0.1', port(m), 'isro', 1000).catch(() => '');
    return a === want ? true : undefined;
  }, 30_000, 200);
}

test('a member cut off from its cluster serves read-only clients, and read/write ones again after the heal', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('kazoo', 'zkCli');
  if (skip) return t.skip(skip);
  const cluster = await CoracleCluster.start({ size: 3, zk: true, peerProxies: true, extraArgs: ['--zk-read-only-mode'] });
  try {
    const leader = await cluster.leader();
    const cut = cluster.members.find((m) => m !== leader)!;
    // /health answers before the ZooKeeper port opens (the proxy waits for the first leader).
    const writer = await pollUntil(`ZooKeeper port of ${leader.name}`, () => ZkWireClient.connect({ host: '127.0.0.1', port: port(leader) }), 30_000, 200);
    await writer.send({ op: 'create', path: '/ro', data: Buffer.from('before'), acl: OPEN, flags: 0 });
    const child = await writer.send({ op: 'create', path: '/ro/a', data: Buffer.from('x'), acl: OPEN, flags: 0 });
    await writer.close();
    await pollUntil(`${cut.name} has /ro/a`, async () => {
      const c = await ZkWireClient.connect({ host: '127.0.0.1', port: port(cut) });
      try {
        return (await c.send({ op: 'exists', path: '/ro/a', watch: false })).header.err === ZkErr.OK ? true : undefined;
      } finally {
        await c.close();
      }
    }, 20_000, 200);
    assert.equal(await fourLetterWord('127.0.0.1', port(cut), 'isro'), 'rw');

    cluster.isolate(cut);
    await isro(cut, 'ro');
    assert.match(await fourLetterWord('127.0.0.1', port(cut), 'srvr'), /^Mode: read-only$/m);

    await assert.rejects(ZkWireClient.connect({ host: '127.0.0.1', port: port(cut) }), 'a client that does not allow read-only sessions is refused');
    const ro = await ZkWireClient.connect({ host: '127.0.0.1', port: port(cut), canBeReadOnly: true });
    assert.equal(ro.session.readOnly, true, 'the ConnectResponse says read-only');
    const read = await ro.send({ op: 'getData', path: '/ro', watch: false });
    assert.equal(read.header.err, ZkErr.OK);
    assert.equal(read.body?.op === 'getData' && read.body.data?.toString(), 'before');
    const refused = await ro.send({ op: 'setData', path: '/ro', data: Buffer.from('x'), version: -1 });
    assert.equal(refused.header.err, ZkErr.NOTREADONLY);
    assert.ok(BigInt(refused.header.zxid) >= BigInt(child.header.zxid), 'the zxid of the state served');
    assert.equal((await ro.send({ op: 'sync', path: '/ro' })).header.err, ZkErr.NOTREADONLY);

    const k = await kazoo<{ state: string; data: string; children: string[]; create: string; set: string }>(`127.0.0.1:${port(cut)}`, `
from kazoo.exceptions import NotReadOnlyCallError
c = KazooClient(hosts=hosts, read_only=True, timeout=10)
c.start(timeout=15)
try:
    out = {'state': c.client_state}
    out['data'] = c.get('/ro')[0]
    out['children'] = sorted(c.get_children('/ro'))
    for name, call in (('create', lambda: c.create('/ro/k', b'k')), ('set', lambda: c.set('/ro', b'k'))):
        try:
            call()
            out[name] = 'succeeded'
        except NotReadOnlyCallError:
            out[name] = 'NotReadOnlyCallError'
    result = out
finally:
    c.stop()
    c.close()
`, { connect: false, timeoutMs: 45_000 });
    assert.deepEqual(k, { state: 'CONNECTED_RO', data: 'before', children: ['a'], create: 'NotReadOnlyCallError', set: 'NotReadOnlyCallError' });

    const cli = await zkCli(`127.0.0.1:${port(cut)}`, ['get /ro', 'create /ro/cli x'], { readOnly: true, mergeStderr: true, sessionTimeoutMs: 10_000 });
    assert.match(cli.stdout, /^before$/m, cli.stdout);
    assert.match(cli.stdout, /WatchedEvent state:ConnectedReadOnly/, cli.stdout);
    assert.match(cli.stdout, /^Not a read-only call: \/ro\/cli$/m, cli.stdout);

    cluster.healAll();
    await isro(cut, 'rw');
    await pollUntil('the read-only connection closed after the heal', async () => (ro.isClosed ? true : undefined), 15_000, 100);

    const rw = await pollUntil(`a read/write session on ${cut.name}`, async () => {
      const c = await ZkWireClient.connect({ host: '127.0.0.1', port: port(cut), canBeReadOnly: true });
      if (c.session.timeOut > 0) return c;
      c.drop();
      return undefined;
    }, 20_000, 200);
    try {
      assert.equal(rw.session.readOnly, false);
      assert.equal((await rw.send({ op: 'create', path: '/ro/after', data: Buffer.from('y'), acl: OPEN, flags: 0 })).header.err, ZkErr.OK);
    } finally {
      await rw.close();
    }
  } finally {
    await cluster.close();
  }
});
