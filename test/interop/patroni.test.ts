/**
 * A real service built on ZooKeeper and etcd, run unmodified on Coracle: Patroni (Debian's
 * patroni 3.x), which keeps a PostgreSQL cluster's leader lock, member records and config in its
 * DCS. Once over the ZooKeeper port (kazoo: an ephemeral leader znode held by the session), once
 * over the etcd v3 API (Patroni's own client of the JSON gateway: a leader key on a lease,
 * guarded transactions, watches) and once over `coracle zk-proxy` in front of a real etcd 3.4
 * (the ZooKeeper front end on an existing etcd cluster): two nodes bootstrap a primary and a
 * streaming replica; `patronictl switchover` hands the primary over (a request written to the
 * DCS, acted on by both nodes through their watches and loops); the new primary's whole process
 * tree is killed (a crash); the lock must outlive the crash for its session / lease time, then
 * lapse, and the replica must take it and promote itself; a clean shutdown of that primary
 * releases the lock.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { startCoracle } from '../support/coracle-server';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { FAST_FAILOVER, PatroniDcs, PatroniNode, isRunningPrimary, isRunningReplica, patronictl, startPatroniNode } from '../support/patroni';
import { pollUntil, sleep } from '../support/poll';
import { startEtcd } from '../support/etcd-peer';
import { startZkProxyProcess } from '../support/zk-proxy-process';
import { DcsView, etcdView, zkView } from '../support/patroni-dcs-view';

/** Where the test runs Patroni's DCS: the port Patroni uses, a view of its records, and how to stop it. */
interface Store {
  dcs: PatroniDcs;
  view: DcsView;
  stop(): Promise<void>;
}

async function coracleStore(kind: PatroniDcs['kind'], scope: string): Promise<Store> {
  const coracle = await startCoracle();
  const port = kind === 'zookeeper' ? coracle.zkPort : coracle.clientPort;
  const view = kind === 'zookeeper' ? await zkView(port, scope) : etcdView(port, scope);
  return { dcs: { kind, ports: [port] }, view, stop: async () => void (await coracle.stop()) };
}

/** `coracle zk-proxy` in front of a real etcd 3.4: the ZooKeeper front end over an existing cluster. */
async function proxyOverEtcdStore(scope: string): Promise<Store> {
  const etcd = await startEtcd();
  const proxy = await startZkProxyProcess(etcd.endpoints);
  const view = await zkView(proxy.port, scope);
  return { dcs: { kind: 'zookeeper', ports: [proxy.port] }, view, stop: async () => {
    await proxy.stop();
    await etcd.stop();
  } };
}

async function failover(t: TestContext, scope: string, open: () => Promise<Store>): Promise<void> {
  const store = await open();
  const { dcs, view } = store;
  const dir = createTempDir('patroni-');
  const nodes: PatroniNode[] = [];
  try {
    const pg1 = await startPatroniNode(scope, 'pg1', dir, dcs);
    nodes.push(pg1);
    await pg1.waitFor('bootstrap as the primary', isRunningPrimary, 120_000);
    const pg2 = await startPatroniNode(scope, 'pg2', dir, dcs);
    nodes.push(pg2);
    await pg2.waitFor('a streaming replica', isRunningReplica, 120_000);
    assert.equal(await view.leader(), 'pg1');
    assert.ok(await view.leaderIsLeased(), 'the lock dies with its holder');
    // One read per probe: a member record is briefly gone while Patroni recreates it under a new session.
    const members = (n: number) => async (): Promise<string[] | undefined> => {
      const m = await view.members();
      return m.length === n ? m : undefined;
    };
    assert.deepEqual(await pollUntil('both member records', members(2), 10_000), ['pg1', 'pg2']);

    // A planned switchover (patronictl writes the request to the DCS; the nodes act on it).
    const sw = await patronictl(pg1, ['switchover', '--leader', 'pg1', '--candidate', 'pg2', '--force', scope]);
    assert.equal(sw.code, 0, `patronictl switchover: ${sw.stdout}${sw.stderr}`);
    await pg2.waitFor('the primary after the switchover', isRunningPrimary, 60_000);
    await pg1.waitFor('a replica of the new primary', isRunningReplica, 90_000);
    await pollUntil('the lock moved to pg2', async () => ((await view.leader()) === 'pg2' ? true : undefined), 30_000, 250);

    // A crash: Patroni and its PostgreSQL die at once, nobody releases the lock.
    const crashedAt = performance.now();
    pg2.process.signal('SIGKILL');
    await pg2.process.waitForExit(10_000);
    await sleep(3000);
    assert.equal(await view.leader(), 'pg2', 'the lock outlives a crash for its session / lease time (ttl 10 s)');
    assert.equal((await pg1.status())?.role, 'replica');
    await pg1.waitFor('promotion once the lock lapsed', isRunningPrimary, 60_000);
    const promotedAt = pg1.process.lineCount;
    t.diagnostic(`${scope}: pg1 promoted ${Math.round(performance.now() - crashedAt)} ms after pg2 crashed`);
    assert.equal(await view.leader(), 'pg1');
    assert.deepEqual(await pollUntil('pg2\'s member record gone', members(1), 30_000), ['pg1']);

    // A clean shutdown releases the lock (kazoo's closeSession may still be in flight when
    // Patroni exits, so allow a moment; expiry would take the whole ttl of 10 s). Patroni only
    // releases a lock it has confirmed in a full loop as leader: a SIGTERM in the moment after
    // its promotion leaves the lock to lapse (its own behaviour, on ZooKeeper too), so wait for one.
    await pg1.process.waitForLine(/I am \(pg1\), the leader with the lock/, 15_000, promotedAt);
    const stoppedAt = pg1.process.lineCount;
    pg1.process.signal('SIGTERM', false);
    await pg1.process.waitForExit(60_000);
    await lockGoneAfterShutdown(t, dcs, pg1, stoppedAt, view);
  } finally {
    for (const n of nodes) await n.process.stop(10_000);
    await view.close();
    await store.stop();
    removeTempDir(dir);
  }
}

/**
 * After a clean shutdown the lock must go at once. Patroni gives it up only while its lock is
 * still valid: a shutdown slower than the ttl (a loaded machine stopping PostgreSQL) leaves it to
 * lapse, on ZooKeeper too. Over ZooKeeper its release is a restart of its kazoo client (the lock
 * is an ephemeral of the closed session), which its log shows as "Zookeeper session closed"; when
 * that line is missing, the lock must lapse within the session's ttl instead. Over etcd the
 * release is a delete that leaves no line, so the bound stays the short one.
 */
async function lockGoneAfterShutdown(t: TestContext, dcs: PatroniDcs, node: PatroniNode, since: number, view: DcsView): Promise<void> {
  const released = dcs.kind !== 'zookeeper' || await node.process.waitForLine(/Zookeeper session closed/, 1, since).then(() => true, () => false);
  if (!released) t.diagnostic('Patroni exited without closing its ZooKeeper session: waiting for the lock to lapse with it');
  const [what, within] = released ? ['the lock released on shutdown', 4000] : ['the lock lapsed after shutdown', (FAST_FAILOVER.ttl + 5) * 1000];
  await pollUntil(what, async () => ((await view.leader()) === undefined ? true : undefined), within, 100)
    .catch(async (e: Error) => assert.fail(`${e.message}: the leader key still says ${await view.leader()}\n--- Patroni's output after SIGTERM ---\n${node.process.tail(node.process.lineCount - since)}`));
}

const TITLE = 'bootstrap, a replica, a switchover, failover on a crash, release on shutdown';

test(`Patroni over the ZooKeeper port: ${TITLE}`, { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('patroni');
  if (skip) return t.skip(skip);
  await failover(t, 'pg-zk', () => coracleStore('zookeeper', 'pg-zk'));
});

test(`Patroni over the etcd v3 API: ${TITLE}`, { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('patroni');
  if (skip) return t.skip(skip);
  await failover(t, 'pg-etcd', () => coracleStore('etcd3', 'pg-etcd'));
});

test(`Patroni over coracle zk-proxy in front of etcd 3.4: ${TITLE}`, { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('patroni', 'etcd');
  if (skip) return t.skip(skip);
  await failover(t, 'pg-proxy', () => proxyOverEtcdStore('pg-proxy'));
});
