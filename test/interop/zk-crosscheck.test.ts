/**
 * Cross-check (DESIGN §4, §8): the workload of zk-workload.ts is sent to Coracle's ZooKeeper
 * port, whose handler is wrapped by the cross-checker; every request is mirrored to a real
 * Apache ZooKeeper 3.8 and every reply and notification compared field by field (zxids by
 * order and equality, times by plausibility). Any mismatch fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CrossChecker } from '../../zkproxy/dispatch/crosscheck-handler';
import { describeMismatch } from '../../zkproxy/dispatch/reply-compare';
import { startHarness } from './zk-harness';
import { runWorkload } from './zk-workload';
import { runEdgeWorkload } from './zk-edge-workload';

test('every reply and notification matches Apache ZooKeeper 3.8', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true'], logLevel: 'warn' });
  const checker = new CrossChecker({ oracleHost: zk.host, oraclePort: zk.port });
  const h = await startHarness({ decorate: (inner) => checker.wrap(inner), containerCheckIntervalMs: 600_000 });
  try {
    await runWorkload(h.host, h.port);
    await runEdgeWorkload(h.host, h.port);
    const mismatches = await checker.finish();
    t.diagnostic(`compared ${checker.compared.replies} replies and ${checker.compared.events} notifications`);
    assert.deepEqual(mismatches.map(describeMismatch), []);
    assert.ok(checker.compared.replies > 100);
  } finally {
    await checker.close();
    await h.stop();
    await zk.stop();
  }
});
