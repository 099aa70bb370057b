/**
 * Random programs (zk-random-workload.ts) through the cross-checker: every reply and every
 * notification of Coracle's ZooKeeper port compared with a real Apache ZooKeeper 3.8 fed the same
 * requests, with the front end over each of its backends: the in-memory reference, the in-process
 * core (what `coracle` serves; the only one where a connection's writes are pipelined), and a real
 * etcd 3.4 over gRPC (`coracle zk-proxy`). The seeds are fixed so CI runs the same programs every
 * time; `CORACLE_ZK_RANDOM_SEED` picks others to explore, `CORACLE_ZK_RANDOM_PROGRAMS` how many
 * and `CORACLE_ZK_RANDOM_STEPS` how long. A mismatch names the seed, the program and its steps,
 * so it can be replayed.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { startEtcd } from '../support/etcd-peer';
import { CrossChecker } from '../../zkproxy/dispatch/crosscheck-handler';
import { describeMismatch } from '../../zkproxy/dispatch/reply-compare';
import type { KvBackend } from '../../zkproxy/backend/kv-backend';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { startHarness } from './zk-harness';
import { withLocalBackend } from './zk-local-member';
import { programs, runProgram } from './zk-random-workload';

const SEED = Number(process.env.CORACLE_ZK_RANDOM_SEED ?? 20261122);
const PROGRAMS = Number(process.env.CORACLE_ZK_RANDOM_PROGRAMS ?? 16);
const STEPS = Number(process.env.CORACLE_ZK_RANDOM_STEPS ?? 60);
/** Neither server may reap containers or TTL nodes while the programs run. */
const NO_REAPING_MS = 3_600_000;

/**
 * Runs the programs of `seed` through a proxy over `backend` (the in-memory one when undefined)
 * and a real ZooKeeper 3.8, and asserts that nothing differed.
 */
async function crossCheck(t: TestContext, seed: number, count: number, backend?: KvBackend): Promise<void> {
  const zk = await startZookeeper({
    jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true', `-Dznode.container.checkIntervalMs=${NO_REAPING_MS}`],
    logLevel: 'warn',
  });
  const checker = new CrossChecker({ oracleHost: zk.host, oraclePort: zk.port });
  const h = await startHarness({ backend, decorate: (inner) => checker.wrap(inner), containerCheckIntervalMs: NO_REAPING_MS });
  const failures: string[] = [];
  let steps = 0;
  try {
    for (const [i, program] of programs(seed, count, STEPS).entries()) {
      const before = checker.mismatches.length;
      steps += await runProgram(h.host, h.port, `/rnd${i}`, program);
      await checker.finish(200);
      // The program's sessions are closed: drop their mirrors, so the next finish() compares
      // only the next program's notifications.
      await checker.close();
      const found = checker.mismatches.slice(before);
      if (found.length > 0) {
        failures.push(`seed ${seed} program ${i}: ${found.map(describeMismatch).join('; ')}\n  steps: ${JSON.stringify(program)}`);
      }
    }
    t.diagnostic(`${steps} steps; compared ${checker.compared.replies} replies and ${checker.compared.events} notifications`);
    assert.deepEqual(failures, []);
    assert.ok(checker.compared.replies >= count * STEPS * 0.8, 'most steps were compared');
  } finally {
    await checker.close();
    await h.stop();
    await zk.stop();
  }
}

test(`random programs match Apache ZooKeeper 3.8 (seed ${SEED}, ${PROGRAMS} × ${STEPS} steps, in-memory backend)`, { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  await crossCheck(t, SEED, PROGRAMS);
});

test(`random programs match Apache ZooKeeper 3.8 over the in-process core (seed ${SEED + 1})`, { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  await withLocalBackend((backend) => crossCheck(t, SEED + 1, PROGRAMS, backend));
});

test(`random programs match Apache ZooKeeper 3.8 over etcd 3.4 (seed ${SEED + 2})`, { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('zookeeper', 'etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const backend = new RemoteBackend({ endpoints: etcd.endpoints });
  try {
    await crossCheck(t, SEED + 2, Math.ceil(PROGRAMS / 2), backend);
  } finally {
    await backend.close();
    await etcd.stop();
  }
});
