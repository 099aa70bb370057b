/**
 * Differential test: one etcdctl 3.4 script, run against a real etcd 3.4 and against the real
 * `coracle` binary. Every command's stdout, exit code and error text must match, with member and
 * cluster ids and the raft term masked (etcd.md §1.4, §2.1–2.5, §2.10: revisions, range options,
 * txn, compaction and the exact error texts). Both stores start fresh, so revisions must agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { etcdctl } from '../support/etcdctl';
import { CORACLE_BIN, httpGet, startCoracle } from '../support/coracle-server';
import { runCommand } from '../support/run-command';

/** The script: each entry is one etcdctl invocation (plus stdin for txn). */
const SCRIPT: Array<{ args: string[]; input?: string }> = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['put', 'foo', 'baz', '--prev-kv'] },
  { args: ['put', 'fop', '1'] },
  { args: ['put', 'fo', '2'] },
  { args: ['put', 'zzz', '3'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['get', 'fo', '--prefix'] },
  { args: ['get', 'fo', '--prefix', '--limit', '2', '-w', 'json'] },
  { args: ['get', 'fop', '--from-key', '--keys-only'] },
  { args: ['get', 'f', '--prefix', '--sort-by', 'VALUE', '--order', 'DESCEND'] },
  { args: ['get', 'f', '--prefix', '--sort-by', 'CREATE', '--order', 'ASCEND', '-w', 'json'] },
  { args: ['get', 'foo', '--rev', '2'] },
  { args: ['get', 'foo', '--rev', '99'] },
  { args: ['get', '', '--prefix', '--keys-only'] },
  { args: ['get', 'missing', '-w', 'json'] },
  { args: ['del', 'nothing-here'] },
  { args: ['del', 'fo', '--prev-kv'] },
  { args: ['del', 'fo', '--prefix'] },
  { args: ['txn', '-w', 'json'], input: 'value("zzz") = "3"\n\nput zzz 4\nget zzz\n\nput zzz never\n\n' },
  { args: ['txn'], input: 'create("nope") > "0"\n\nput a b\n\ndel zzz\n\n' },
  { args: ['get', 'zzz', '-w', 'json'] },
  { args: ['put', 'k', 'v', '--ignore-value'] },
  { args: ['put', 'k', 'v', '--lease', '1234'] },
  { args: ['compaction', '5'] },
  { args: ['get', 'foo', '--rev', '4'] },
  { args: ['get', 'foo', '--rev', '5'] },
  { args: ['compaction', '3'] },
  { args: ['compaction', '999'] },
];

/** Masks what legitimately differs between two servers: ids, term, and the client's log prefix. */
function normalize(s: string): string {
  return s
    .replace(/"(cluster_id|member_id|raft_term)":"?\d+"?/g, '"$1":X')
    .replace(/^\{"level".*$/gm, '')
    .replace(/\s+$/g, '');
}

test('etcdctl 3.4 prints the same against coracle as against etcd 3.4', async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  // etcd mode only: with the ZooKeeper front end on, its system znodes (/zookeeper, …) are
  // written at start and take revisions, so the etcd revisions would start two higher.
  const coracle = await startCoracle(['--zk-listen', '']);
  try {
    for (const step of SCRIPT) {
      const name = `etcdctl ${step.args.join(' ')}`;
      const want = await etcdctl(etcd.endpoints, step.args, { input: step.input });
      const got = await etcdctl([coracle.endpoint], step.args, { input: step.input });
      assert.equal(got.code, want.code, `${name}: exit code (stderr: ${got.stderr})`);
      assert.equal(normalize(got.stdout), normalize(want.stdout), `${name}: stdout`);
      assert.equal(normalize(got.stderr), normalize(want.stderr), `${name}: stderr`);
    }
  } finally {
    await coracle.stop();
    await etcd.stop();
  }
});

test('coracle: /health, /version, and a bad flag exits 2 with a message', async () => {
  const coracle = await startCoracle();
  try {
    const health = await httpGet(coracle.clientPort, '/health');
    assert.deepEqual(JSON.parse(health!.body), { health: 'true', reason: '' });
    const version = await httpGet(coracle.clientPort, '/version');
    assert.match(JSON.parse(version!.body).etcdserver, /^3\.5\./);
  } finally {
    assert.equal(await coracle.stop(), 0, 'SIGTERM is a clean shutdown');
  }
  const bad = await runCommand(process.execPath, [CORACLE_BIN, '--no-such-flag'], { timeoutMs: 10_000 });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --no-such-flag/);
});
