/**
 * zk-proxy's history watchdog (zkproxy/history-watchdog.ts) against real etcd 3.4: an etcd that
 * keeps its whole history gets the operator warning, from the scheduled check too; one that
 * auto-compacts does not; nor does a young cluster below the threshold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { HistoryWatchdog } from '../../zkproxy/history-watchdog';
import { ZkLogFn, ZkLogger } from '../../zkproxy/logger';
import { startEtcd } from '../support/etcd-peer';
import { requirePeer } from '../support/peers';
import { pollUntil } from '../support/poll';

/** A logger that keeps its warnings. */
function capture(): { logger: ZkLogger; warnings: string[] } {
  const warnings: string[] = [];
  const noop: ZkLogFn = () => {};
  const warn: ZkLogFn = (a: object | string, m?: string) => void warnings.push(typeof a === 'string' ? a : m ?? '');
  const logger: ZkLogger = { trace: noop, debug: noop, info: noop, warn, error: noop, fatal: noop, child: () => logger };
  return { logger, warnings };
}

const KEY = Buffer.from('/zk/secret');

async function writes(kv: RemoteBackend, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await kv.txn({ compare: [], success: [{ type: 'put', key: KEY, value: Buffer.from(`v${i}`) }], failure: [] });
}

test('an etcd without compaction gets the warning; an auto-compacting one and a young one do not', { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const keeping = await startEtcd();
  const compacting = await startEtcd({ extraArgs: ['--auto-compaction-retention=1s'] });
  const a = new RemoteBackend({ endpoints: keeping.endpoints });
  const b = new RemoteBackend({ endpoints: compacting.endpoints });
  try {
    await writes(a, 5);
    await writes(b, 5);
    const young = capture();
    assert.equal(await new HistoryWatchdog(a, KEY, young.logger, { firstCheckMs: 0, intervalMs: 60_000, minRevision: 1000 }).check(), false);
    assert.deepEqual(young.warnings, []);

    const kept = capture();
    const dog = new HistoryWatchdog(a, KEY, kept.logger, { firstCheckMs: 10, intervalMs: 60_000, minRevision: 3 }).start();
    try {
      await pollUntil('the scheduled check warns', async () => (kept.warnings.length > 0 ? true : undefined), 10_000);
    } finally {
      dog.stop();
    }
    assert.match(kept.warnings[0]!, /keeps its whole history.*--auto-compaction-retention/);

    // etcd's periodic compactor with 1s retention compacts about every second.
    const compacted = capture();
    const dogB = new HistoryWatchdog(b, KEY, compacted.logger, { firstCheckMs: 0, intervalMs: 60_000, minRevision: 3 });
    await pollUntil('etcd compacted revision 1', async () => {
      await writes(b, 1);
      return (await dogB.check()) ? undefined : true;
    }, 20_000, 500);
    assert.equal(await dogB.check(), false);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await Promise.all([keeping.stop(), compacting.stop()]);
  }
});
