/**
 * The KvBackend contract (zk-kv-backend-conformance.ts) against every backend available here:
 * the in-memory reference and real etcd 3.4 through the remote backend. The in-process core
 * joins when zkproxy/backend/local-backend.ts exists.
 */
import { test } from 'node:test';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { startEtcd } from '../support/etcd-peer';
import { requirePeer } from '../support/peers';
import { CHECKS } from './zk-kv-backend-conformance';

test('KvBackend contract: MemoryBackend', { timeout: 60_000 }, async (t) => {
  const kv = new MemoryBackend();
  try {
    for (const [i, c] of CHECKS.entries()) await t.test(c.name, () => c.run(kv, `/t${i}/`));
  } finally {
    await kv.close();
  }
});

test('KvBackend contract: RemoteBackend over etcd 3.4', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const kv = new RemoteBackend({ endpoints: etcd.endpoints });
  try {
    for (const [i, c] of CHECKS.entries()) await t.test(c.name, () => c.run(kv, `/t${i}/`));
  } finally {
    await kv.close();
    await etcd.stop();
  }
});
