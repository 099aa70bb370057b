/**
 * The scripted ZooKeeper workload the cross-checker replays against Coracle and a real
 * ZooKeeper: every op code of the client protocol, all create modes, watches of every kind,
 * multi successes and failures, ACLs and auth, and a session expiry. Each step runs alone (the
 * cross-checker compares zxids in one global order). Driven through {@link ZkWireClient} so
 * the exact requests are sent, with no client-side validation.
 */
import { Acl, CreateMode, WatcherType } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const b = (s: string): Buffer => Buffer.from(s);

/** Runs the workload against `host:port`; `log` receives one line per step. */
export async function runWorkload(host: string, port: number, log: (s: string) => void = () => {}): Promise<void> {
  const connect = (timeoutMs = 10_000): Promise<ZkWireClient> => ZkWireClient.connect({ host, port, timeoutMs });
  const a = await connect();
  const bcl = await connect();
  const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    log(name);
    await fn();
  };
  const cr = (path: string, data: string | null, flags = 0, acl = OPEN) => ({ op: 'create' as const, path, data: data === null ? null : b(data), acl, flags });

  await step('initial reads', async () => {
    await a.send({ op: 'getChildren2', path: '/', watch: false });
    await a.send({ op: 'exists', path: '/zookeeper', watch: false });
    await a.send({ op: 'getData', path: '/zookeeper/config', watch: false });
    await a.send({ op: 'getACL', path: '/zookeeper/config' });
    await a.send({ op: 'getChildren', path: '/zookeeper', watch: false });
  });
  await step('creates of every mode', async () => {
    await a.send(cr('/x', 'a'));
    await a.send({ ...cr('/x/y', null), op: 'create2' });
    await a.send(cr('/x/seq-', 's', CreateMode.PERSISTENT_SEQUENTIAL));
    await a.send({ ...cr('/x/seq-', 's', CreateMode.PERSISTENT_SEQUENTIAL), op: 'create2' });
    await a.send({ ...cr('/x/eph-', 'e', CreateMode.EPHEMERAL_SEQUENTIAL), op: 'create2' });
    await a.send(cr('/x/eph', '', CreateMode.EPHEMERAL));
    await a.send({ ...cr('/c', 'container', CreateMode.CONTAINER), op: 'createContainer' });
    await a.send({ ...cr('/t', 'ttl', CreateMode.PERSISTENT_WITH_TTL), op: 'createTTL', ttl: 3_600_000n });
    await a.send({ ...cr('/t/s-', 'ttl', CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL), op: 'createTTL', ttl: 3_600_000n });
    await a.send(cr('/x/', 'trailing slash seq', CreateMode.PERSISTENT_SEQUENTIAL));
  });
  await step('create failures', async () => {
    await a.send(cr('/x', 'again'));
    await a.send(cr('/nope/a', ''));
    await a.send(cr('/bad', '', 0, []));
    await a.send(cr('/bad', '', 9));
    await a.send(cr('/a//b', ''));
    await a.send(cr('/x/eph/child', ''));
    await a.send({ ...cr('/t2', '', CreateMode.PERSISTENT_WITH_TTL), op: 'createTTL', ttl: 0n });
    await a.send({ ...cr('/t3', '', 0), op: 'createTTL', ttl: 5n });
    await a.send(cr('/bad2', '', 0, [{ perms: 31, id: { scheme: 'auth', id: '' } }]));
    await a.send(cr('/bad3', '', 0, [{ perms: 31, id: { scheme: 'nosuch', id: 'x' } }]));
  });
  await step('watches armed by B', async () => {
    await bcl.send({ op: 'exists', path: '/w', watch: true });
    await bcl.send({ op: 'getData', path: '/x', watch: true });
    await bcl.send({ op: 'getChildren', path: '/x', watch: true });
    await bcl.send({ op: 'exists', path: '/x', watch: true });
    await bcl.send({ op: 'getData', path: '/missing', watch: true });
    await bcl.send({ op: 'getChildren2', path: '/x/y', watch: true });
  });
  await step('changes that fire them', async () => {
    await a.send(cr('/w', 'w'));
    await a.send({ op: 'setData', path: '/x', data: b('b'), version: 0 });
    await a.send({ op: 'setData', path: '/x', data: b('c'), version: 5 });
    await a.send({ op: 'setData', path: '/x', data: null, version: -1 });
    await a.send(cr('/x/z', 'z'));
    await a.send({ op: 'setData', path: '/x/z', data: b('child data change fires nothing'), version: -1 });
    await a.send({ op: 'delete', path: '/x', version: -1 });
    await a.send({ op: 'delete', path: '/x/y', version: 3 });
    await a.send({ op: 'delete', path: '/x/y', version: 0 });
    await a.send({ op: 'delete', path: '/zookeeper', version: -1 });
    await a.send({ op: 'delete', path: '/nope', version: -1 });
    await a.send({ op: 'getData', path: '/x', watch: false });
    await a.send({ op: 'getChildren2', path: '/x', watch: false });
  });
  await step('multi', async () => {
    await a.send({ op: 'multi', ops: [
      cr('/m', 'm'), { op: 'setData', path: '/m', data: b('m2'), version: 0 }, { op: 'check', path: '/m', version: 1 },
      { ...cr('/m/s-', '', CreateMode.PERSISTENT_SEQUENTIAL), op: 'create2' }, cr('/m/s-', '', CreateMode.PERSISTENT_SEQUENTIAL),
    ] });
    await a.send({ op: 'multi', ops: [cr('/m2', ''), { op: 'check', path: '/x', version: 99 }, { op: 'delete', path: '/w', version: -1 }] });
    await a.send({ op: 'multi', ops: [] });
    await a.send({ op: 'multi', ops: [
      { ...cr('/mc', '', CreateMode.CONTAINER), op: 'createContainer' },
      { ...cr('/mt', '', CreateMode.PERSISTENT_WITH_TTL), op: 'createTTL', ttl: 600_000n },
      cr('/mc/child', 'x'), { op: 'delete', path: '/mc/child', version: 0 },
    ] });
    await a.send({ op: 'multi', ops: [{ op: 'delete', path: '/m', version: -1 }] });
    await a.send({ op: 'multiRead', ops: [{ op: 'getData', path: '/m', watch: false }, { op: 'getChildren', path: '/m', watch: false }, { op: 'getData', path: '/nope', watch: false }] });
    await a.send({ op: 'getData', path: '/m', watch: false });
  });
  await step('acl and auth', async () => {
    const alice: Acl[] = [{ perms: 31, id: { scheme: 'digest', id: 'alice:zRiVaNvxMRqYxt4ycrG6uBfRPxo=' } }];
    await a.send({ op: 'setACL', path: '/w', acl: alice, version: 0 });
    await a.send({ op: 'setACL', path: '/w', acl: OPEN, version: 0 });
    await a.send({ op: 'getACL', path: '/w' });
    await a.send({ op: 'getData', path: '/w', watch: false });
    await a.send({ op: 'auth', type: 0, scheme: 'digest', auth: b('alice:pw') });
    await a.send({ op: 'getACL', path: '/w' });
    await a.send({ op: 'setData', path: '/w', data: b('authed'), version: -1 });
    await a.send(cr('/w/mine', 'x', 0, [{ perms: 31, id: { scheme: 'auth', id: '' } }]));
    await a.send({ op: 'getACL', path: '/w/mine' });
    await bcl.send({ op: 'getData', path: '/w', watch: false });
    await bcl.send({ op: 'setData', path: '/w/mine', data: b('no'), version: -1 });
    await bcl.send({ op: 'delete', path: '/w/mine', version: -1 });
    await a.send({ op: 'whoAmI' });
    await a.send(cr('/ipnode', '', 0, [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.0/8' } }]));
    await bcl.send({ op: 'getData', path: '/ipnode', watch: false });
    await bcl.send({ op: 'setData', path: '/ipnode', data: b('x'), version: -1 });
  });
  await step('misc ops', async () => {
    await a.send({ op: 'sync', path: '/x' });
    await a.send({ op: 'sync', path: '/does/not/exist' });
    await a.send({ op: 'getEphemerals', prefixPath: '/' });
    await a.send({ op: 'getEphemerals', prefixPath: '/x/e' });
    await a.send({ op: 'getAllChildrenNumber', path: '/' });
    await a.send({ op: 'getAllChildrenNumber', path: '/x' });
    await a.send({ op: 'reconfig', joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n });
    await bcl.send({ op: 'whoAmI' });
  });
  await step('persistent and recursive watches', async () => {
    await bcl.send({ op: 'addWatch', path: '/p', mode: 1 });
    await bcl.send({ op: 'addWatch', path: '/pp', mode: 0 });
    await a.send(cr('/p', ''));
    await a.send(cr('/p/q', ''));
    await a.send({ op: 'setData', path: '/p/q', data: b('1'), version: -1 });
    await a.send({ op: 'delete', path: '/p/q', version: -1 });
    await a.send(cr('/pp', ''));
    await a.send(cr('/pp/c', ''));
    await a.send({ op: 'setData', path: '/pp', data: b('1'), version: -1 });
    await bcl.send({ op: 'checkWatches', path: '/p', type: WatcherType.PersistentRecursive });
    await bcl.send({ op: 'removeWatches', path: '/p', type: WatcherType.PersistentRecursive });
    await bcl.send({ op: 'checkWatches', path: '/p', type: WatcherType.PersistentRecursive });
    await bcl.send({ op: 'removeWatches', path: '/nowatch', type: WatcherType.Data });
    await bcl.send({ op: 'getData', path: '/p', watch: true });
    await bcl.send({ op: 'removeWatches', path: '/p', type: WatcherType.Any });
    await a.send({ op: 'setData', path: '/p', data: b('after remove'), version: -1 });
  });
  await step('setWatches on a fresh connection', async () => {
    const d = await connect();
    await d.send({ op: 'setWatches', relativeZxid: 0n, dataWatches: ['/w', '/gone'], existWatches: ['/pp', '/notyet'], childWatches: ['/zookeeper', '/gone'], persistentWatches: [], persistentRecursiveWatches: [] });
    await d.send({ op: 'setWatches2', relativeZxid: 1n << 60n, dataWatches: ['/pp'], existWatches: [], childWatches: ['/pp'], persistentWatches: ['/c'], persistentRecursiveWatches: ['/t'] });
    await a.send(cr('/notyet', ''));
    await a.send({ op: 'setData', path: '/pp', data: b('2'), version: -1 });
    await a.send(cr('/t/x', ''));
    await d.close();
  });
  await step('session expiry removes ephemerals in one zxid and fires watches', async () => {
    const c = await connect(4000);
    await c.send(cr('/e1', '', CreateMode.EPHEMERAL));
    await c.send(cr('/w/e2', '', CreateMode.EPHEMERAL));
    await bcl.send({ op: 'exists', path: '/e1', watch: true });
    await bcl.send({ op: 'getChildren', path: '/w', watch: true });
    c.drop();
    await new Promise((r) => setTimeout(r, 10_000));
    await bcl.send({ op: 'exists', path: '/e1', watch: false });
    await bcl.send({ op: 'getChildren2', path: '/w', watch: false });
    await bcl.send({ op: 'getChildren2', path: '/', watch: false });
  });
  await step('close sessions', async () => {
    await bcl.send({ op: 'exists', path: '/x/eph', watch: true });
    await a.close();
    await bcl.send({ op: 'getChildren2', path: '/x', watch: false });
    await bcl.close();
  });
}
