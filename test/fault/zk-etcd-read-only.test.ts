/**
 * ZooKeeper's read-only mode over etcd (`coracle zk-proxy --zk-read-only-mode`): the proxy talks
 * to one member of a 3-member etcd 3.4 cluster; when the other two are killed that member
 * forgets its leader (CheckQuorum), the proxy turns read-only (`isro` → `ro`), refuses clients
 * that do not allow read-only sessions, serves kazoo's `read_only=True` client from its replica
 * and answers its writes NOTREADONLY; once the two members are back and a leader is elected, it
 * closes the read-only connections and serves read/write sessions again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startEtcd } from '../support/etcd-peer';
import { kazoo } from '../support/kazoo';
import { requirePeer } from '../support/peers';
import { pollUntil } from '../support/poll';
import { startZkProxyProcess } from '../support/zk-proxy-process';
import { fourLetterWord } from '../support/zookeeper-peer';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('zk-proxy over an etcd member that lost its quorum serves read-only clients, and read/write ones once it is back', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('etcd', 'kazoo');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd({ members: 3 });
  t.after(() => etcd.stop());
  // Only member 0: the proxy must not fail over to the others when they come back.
  const proxy = await startZkProxyProcess([etcd.members[0]!.clientUrl], ['--zk-read-only-mode']);
  t.after(() => proxy.stop());
  const isro = (want: 'ro' | 'rw', withinMs: number): Promise<true> => pollUntil(`isro = ${want}`, async () => {
    const a = await fourLetterWord('127.0.0.1', proxy.port, 'isro', 1000).catch(() => '');
    return a === want ? true : undefined;
  }, withinMs, 200);

  const writer = await ZkWireClient.connect({ host: '127.0.0.1', port: proxy.port });
  const made = await writer.send({ op: 'create', path: '/ro', data: Buffer.from('before'), acl: OPEN, flags: 0 });
  assert.equal(made.header.err, ZkErr.OK);
  await writer.close();
  assert.equal(await fourLetterWord('127.0.0.1', proxy.port, 'isro'), 'rw');
  // A proxy that only knows etcd is reachable stays read/write for a while (no false alarm).
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await fourLetterWord('127.0.0.1', proxy.port, 'isro'), 'rw', 'read-only with a healthy cluster');

  await etcd.killMember(1);
  await etcd.killMember(2);
  // etcd's election timeout (1 s) for member 0 to forget its leader, the probe's staleness and
  // read-only mode's own delay (2 s).
  await isro('ro', 30_000);
  assert.match(await fourLetterWord('127.0.0.1', proxy.port, 'srvr'), /^Mode: read-only$/m);
  await assert.rejects(ZkWireClient.connect({ host: '127.0.0.1', port: proxy.port }), 'a client that does not allow read-only sessions is refused');
  const ro = await ZkWireClient.connect({ host: '127.0.0.1', port: proxy.port, canBeReadOnly: true });
  assert.equal(ro.session.readOnly, true, 'the ConnectResponse says read-only');
  const refused = await ro.send({ op: 'create', path: '/ro/x', data: null, acl: OPEN, flags: 0 });
  assert.equal(refused.header.err, ZkErr.NOTREADONLY);
  assert.ok(BigInt(refused.header.zxid) >= BigInt(made.header.zxid), 'the zxid of the state served');

  const k = await kazoo<{ state: string; data: string; set: string }>(proxy.connect, `
from kazoo.exceptions import NotReadOnlyCallError
c = KazooClient(hosts=hosts, read_only=True, timeout=10)
c.start(timeout=15)
try:
    out = {'state': c.client_state, 'data': c.get('/ro')[0]}
    try:
        c.set('/ro', b'k')
        out['set'] = 'succeeded'
    except NotReadOnlyCallError:
        out['set'] = 'NotReadOnlyCallError'
    result = out
finally:
    c.stop()
    c.close()
`, { connect: false, timeoutMs: 45_000 });
  assert.deepEqual(k, { state: 'CONNECTED_RO', data: 'before', set: 'NotReadOnlyCallError' });

  await etcd.restartMember(1);
  await etcd.restartMember(2);
  await isro('rw', 30_000);
  await pollUntil('the read-only connection closed once etcd has a leader again', async () => (ro.isClosed ? true : undefined), 15_000, 100);
  const rw = await pollUntil('a read/write session', async () => {
    const c = await ZkWireClient.connect({ host: '127.0.0.1', port: proxy.port, canBeReadOnly: true });
    if (c.session.timeOut > 0 && !c.session.readOnly) return c;
    c.drop();
    return undefined;
  }, 30_000, 200);
  try {
    const r = await pollUntil('a write after the heal', async () => {
      const w = await rw.send({ op: 'setData', path: '/ro', data: Buffer.from('after'), version: -1 });
      return w.header.err === ZkErr.OK ? w : undefined;
    }, 20_000, 200);
    assert.equal(r.body?.op === 'stat' && r.body.stat.version, 1);
  } finally {
    await rw.close();
  }
});
