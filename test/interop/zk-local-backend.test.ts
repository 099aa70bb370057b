/**
 * zkproxy over the in-process core (zkproxy/backend/local-backend.ts adapting a running core
 * member: LMDB, Raft, MVCC, leases): the KvBackend contract, then the ZooKeeper cross-check
 * workload against a real ZooKeeper 3.8 — the same mapping as over etcd (DESIGN §4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MEMBER_DEFAULTS, Member } from '../../core/server/member';
import { nullLogger } from '../../core/util/logger';
import { LocalBackend } from '../../zkproxy/backend/local-backend';
import { CrossChecker } from '../../zkproxy/dispatch/crosscheck-handler';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CHECKS } from './zk-kv-backend-conformance';
import { startHarness } from './zk-harness';
import { runEdgeWorkload } from './zk-edge-workload';
import { runWorkload } from './zk-workload';

async function withMember(fn: (backend: LocalBackend) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-local-'));
  const member = await Member.start({ ...MEMBER_DEFAULTS, name: 'zk-local', dataDir: path.join(dir, 'data'), logger: nullLogger });
  const backend = new LocalBackend(member);
  try {
    // A single member elects itself; wait until it accepts proposals.
    for (let i = 0; ; i++) {
      try {
        await backend.txn({ compare: [], success: [{ type: 'put', key: Buffer.from('/warmup'), value: Buffer.alloc(0) }], failure: [] });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await fn(backend);
  } finally {
    await backend.close();
    await member.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('KvBackend contract: LocalBackend over the in-process core', { timeout: 60_000 }, async (t) => {
  await withMember(async (kv) => {
    for (const [i, c] of CHECKS.entries()) await t.test(c.name, () => c.run(kv, `/t${i}/`));
  });
});

test('the cross-check workload over the in-process core matches ZooKeeper 3.8', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  await withMember(async (backend) => {
    const zk = await startZookeeper({ jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true'], logLevel: 'warn' });
    const checker = new CrossChecker({ oracleHost: zk.host, oraclePort: zk.port });
    const h = await startHarness({ backend, decorate: (inner) => checker.wrap(inner), containerCheckIntervalMs: 600_000 });
    try {
      await runWorkload(h.host, h.port);
      await runEdgeWorkload(h.host, h.port);
      const mismatches = await checker.finish();
      t.diagnostic(`compared ${checker.compared.replies} replies and ${checker.compared.events} notifications`);
      assert.deepEqual(mismatches.map((m) => `${m.op} ${m.field}: oracle=${String(m.oracle)} candidate=${String(m.candidate)}`), []);
    } finally {
      await checker.close();
      await h.stop();
      await zk.stop();
    }
  });
});
