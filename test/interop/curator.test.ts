/**
 * Apache Curator's recipes, unmodified (Debian's Curator 5.4 over ZooKeeper's 3.8 Java client),
 * against Coracle — and against a real ZooKeeper 3.8 first, which proves the program itself
 * right: a check must pass there before its result on Coracle means anything.
 *
 * The program (test/interop/java/curator/) covers locks (InterProcessMutex, SemaphoreV2,
 * ReadWriteLock, SemaphoreMutex, MultiLock), leader election (LeaderLatch, LeaderSelector),
 * caches (CuratorCache over addWatch, NodeCache, PathChildrenCache, TreeCache), shared state
 * (DistributedAtomicLong, SharedCount, DistributedQueue, barriers), node recipes
 * (PersistentNode, PersistentTtlNode, GroupMember), transactions (up to 500 operations),
 * container parents, watch removal, namespaces, digest ACLs, session timeout negotiation, and
 * sessions that end on the server (expiry of a silent client, a session closed from another
 * connection). Each check prints deterministic details; Coracle's must equal ZooKeeper's,
 * check by check.
 *
 * Coracle runs as users run it: the `coracle` command (embedded member, ZooKeeper port on). The
 * two checks that wait for the container/TTL reaper run against `coracle zk-proxy
 * --zk-container-check-ms=500` in front of that same member, because the embedded command keeps
 * ZooKeeper's one-minute reaper interval; the proxy keeps its znodes under a key prefix of its
 * own, so its fast reaper never touches the recipe run's containers. ZooKeeper runs twice the
 * same way: at its default for the recipes, and with znode.container.checkIntervalMs=500 for
 * the reaping checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoracle, CORACLE_BIN } from '../support/coracle-server';
import { requirePeer } from '../support/peers';
import { pollUntil } from '../support/poll';
import { freePort, releasePorts } from '../support/ports';
import { startProcess, type ManagedProcess } from '../support/process';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';
import {
  CURATOR_CHECKS, REAPER_CHECKS, compileCurator, curatorMissing, runCurator, type CuratorRun,
} from './curator-program';

/** Reaper interval given to both servers for the reaping checks. */
const REAPER_MS = 500;
/** Bounds on each program run (each check also bounds itself at 30 s). */
const RUN_TIMEOUT_MS = 150_000;

/** `coracle zk-proxy` over an etcd endpoint, serving ZooKeeper on a fresh port. */
async function startZkProxyCommand(endpoint: string): Promise<{ connect: string; proc: ManagedProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = startProcess(process.execPath, [
    CORACLE_BIN, 'zk-proxy', '--endpoints', `http://${endpoint}`, '--zk-listen', `127.0.0.1:${port}`,
    '--zk-container-check-ms', String(REAPER_MS), '--log-level', 'warn',
    // A ZooKeeper space of its own: its fast reaper would otherwise also reap the recipe run's
    // containers on the same member (add-watch's root, emptied between a delete and a re-create,
    // was reaped once in CI: ZooKeeper's semantics, but not what a 60 s-interval server does).
    '--zk-key-prefix', '/zk-reaper-checks/',
  ], { name: 'coracle-zk-proxy' });
  const stop = async (): Promise<void> => {
    await proc.stop();
    releasePorts([port]);
  };
  try {
    await pollUntil('coracle zk-proxy ruok', async () => {
      if (proc.exited) throw proc.failure('exited during start');
      return (await fourLetterWord('127.0.0.1', port, 'ruok', 1000)) === 'imok' ? true : undefined;
    }, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { connect: `127.0.0.1:${port}`, proc, stop };
}

/** One line per check for the test's diagnostics. */
function summary(label: string, run: CuratorRun): string {
  const lines = [...run.results].map(([name, r]) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${name}: ${r.details}`);
  return `${label} (${(run.durationMs / 1000).toFixed(1)} s${run.done ? '' : ', did not finish'}):\n${lines.join('\n')}`;
}

/** The tail of a run's stderr, for a failure message. */
function stderrTail(run: CuratorRun): string {
  return run.stderr.split('\n').slice(-40).join('\n');
}

test('Apache Curator 5.4 recipes give the same results on Coracle as on ZooKeeper 3.8', { timeout: 280_000 }, async (t) => {
  const skip = requirePeer('zookeeper') ?? curatorMissing();
  if (skip) return t.skip(skip);
  const classes = createTempDir('coracle-curator-');
  // Two ZooKeepers as two Coracle front ends: the reaper at its default minute for the recipes
  // (a 500 ms reaper deletes a recipe's emptied container parent under it, e.g. the double
  // barrier's while its members leave: a race Curator does not absorb), and at 500 ms for the
  // reaping checks.
  const zkOptions = (reaperMs?: number): Parameters<typeof startZookeeper>[0] => ({
    jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true', ...(reaperMs ? [`-Dznode.container.checkIntervalMs=${reaperMs}`] : [])],
    logLevel: 'warn',
  });
  const started = await Promise.allSettled([
    startZookeeper(zkOptions()),
    startZookeeper(zkOptions(REAPER_MS)),
    startCoracle(),
    compileCurator(classes),
  ]);
  const value = <T>(r: PromiseSettledResult<T>): T | undefined => (r.status === 'fulfilled' ? r.value : undefined);
  const zk = value(started[0]);
  const zkReaper = value(started[1]);
  const coracle = value(started[2]);
  let proxy: Awaited<ReturnType<typeof startZkProxyCommand>> | undefined;
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [zkPeer, zkReaperPeer, server] = [zk!, zkReaper!, coracle!];
    proxy = await startZkProxyCommand(server.endpoint);
    // All runs at once: the program mostly waits (on watches, locks, session timers), so running
    // them side by side costs little CPU and saves most of a minute. Each check works under its
    // own root path, and the proxy under its own key prefix, so the two runs do not meet.
    const recipes = CURATOR_CHECKS.filter((c) => !REAPER_CHECKS.includes(c));
    const [onZk, onZkReaper, onCoracle, onProxy] = await Promise.all([
      runCurator(classes, zkPeer.connectString, recipes, RUN_TIMEOUT_MS),
      runCurator(classes, zkReaperPeer.connectString, REAPER_CHECKS, RUN_TIMEOUT_MS),
      runCurator(classes, `127.0.0.1:${server.zkPort}`, recipes, RUN_TIMEOUT_MS),
      runCurator(classes, proxy.connect, REAPER_CHECKS, RUN_TIMEOUT_MS),
    ]);
    t.diagnostic(summary(`ZooKeeper ${zkPeer.version}`, onZk));
    t.diagnostic(summary(`ZooKeeper ${zkReaperPeer.version}, znode.container.checkIntervalMs=${REAPER_MS}`, onZkReaper));
    t.diagnostic(summary('coracle', onCoracle));
    t.diagnostic(summary(`coracle zk-proxy --zk-container-check-ms=${REAPER_MS}`, onProxy));

    for (const name of CURATOR_CHECKS) {
      await t.test(name, () => {
        const [zkRun, run] = REAPER_CHECKS.includes(name) ? [onZkReaper, onProxy] : [onZk, onCoracle];
        const expected = zkRun.results.get(name);
        assert.ok(expected, `no result for ${name} on ZooKeeper (the run ${zkRun.done ? 'skipped it' : 'did not finish'}):\n${stderrTail(zkRun)}`);
        assert.ok(expected.ok, `${name} fails on ZooKeeper itself (a bug in the check): ${expected.details}`);
        const actual = run.results.get(name);
        assert.ok(actual, `no result for ${name} on Coracle (the run ${run.done ? 'skipped it' : 'did not finish'}):\n${stderrTail(run)}`);
        assert.ok(actual.ok, `${name} fails on Coracle: ${actual.details}`);
        assert.equal(actual.details, expected.details, `${name}: Coracle's details differ from ZooKeeper's`);
      });
    }
    assert.ok(onZk.done && onZkReaper.done, 'the program finished on ZooKeeper');
    assert.ok(onCoracle.done && onProxy.done, 'the program finished on Coracle');
  } finally {
    await proxy?.stop();
    await coracle?.stop();
    await zkReaper?.stop();
    await zk?.stop();
    removeTempDir(classes);
  }
});
