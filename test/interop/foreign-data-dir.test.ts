/**
 * A data dir that holds another server's files is refused before anything in it changes: an
 * etcd 3.4 member's (reached through `ETCD_DATA_DIR`, as a unit file switched from etcd to
 * Coracle would pass it) and a ZooKeeper 3.8 dataDir. Each server then starts again on its own
 * data and still has what was written to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CreateMode } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { CORACLE_BIN } from '../support/coracle-server';
import { startEtcd } from '../support/etcd-peer';
import { requirePeer } from '../support/peers';
import { freePorts, releasePorts } from '../support/ports';
import { startZookeeper } from '../support/zookeeper-peer';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Runs coracle on free ports with `args` and `env`; returns its exit status and output. */
async function runCoracle(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; output: string }> {
  const [client, peer, zk] = (await freePorts(3)) as [number, number, number];
  try {
    const r = spawnSync(process.execPath, [
      CORACLE_BIN, '--listen-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--zk-listen', `127.0.0.1:${zk}`, '--log-level', 'error', ...args,
    ], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
    return { status: r.status, output: `${r.stderr}${r.stdout}` };
  } finally {
    releasePorts([client, peer, zk]);
  }
}

test("an etcd member's data dir is refused and left as it was", { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  try {
    const url = etcd.members[0]!.clientUrl;
    const put = await fetch(`${url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: btoa('kept'), value: btoa('by etcd') }) });
    assert.equal(put.status, 200);
    await etcd.members[0]!.process.stop();
    const dataDir = etcd.members[0]!.dataDir;
    assert.ok(existsSync(path.join(dataDir, 'member', 'snap', 'db')), "etcd's database is where etcd keeps it");
    const r = await runCoracle([], { ETCD_DATA_DIR: dataDir });
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, /holds an etcd member's data \(member\/snap\/\).*etcdctl make-mirror/);
    assert.ok(existsSync(path.join(dataDir, 'member', 'snap', 'db')), 'the database is still there');
    assert.equal(existsSync(path.join(dataDir, 'member', 'data.mdb')), false, 'nothing of ours was written');
    await etcd.restartMember(0);
    const got = await fetch(`${url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: btoa('kept') }) });
    const body = (await got.json()) as { kvs?: Array<{ value: string }> };
    assert.equal(atob(body.kvs?.[0]?.value ?? ''), 'by etcd');
  } finally {
    await etcd.stop();
  }
});

test("a ZooKeeper dataDir is refused, pointing at zk-migrate", { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  try {
    const c = await ZkWireClient.connect({ host: zk.host, port: zk.port, timeoutMs: 10_000 });
    assert.equal((await c.send({ op: 'create', path: '/kept', data: Buffer.from('by zookeeper'), acl: OPEN, flags: CreateMode.PERSISTENT })).header.err, 0);
    await c.close();
    await zk.process.stop();
    const r = await runCoracle(['--data-dir', zk.dataDir]);
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, /holds ZooKeeper's data \(version-2\/\).*coracle zk-migrate --from/);
    assert.equal(existsSync(path.join(zk.dataDir, 'member')), false, 'nothing of ours was written');
    await zk.restart();
    const again = await ZkWireClient.connect({ host: zk.host, port: zk.port, timeoutMs: 10_000 });
    const got = await again.send({ op: 'getData', path: '/kept', watch: false });
    assert.equal(got.header.err, 0);
    assert.equal((got.body as { data?: Buffer }).data?.toString(), 'by zookeeper');
    await again.close();
  } finally {
    await zk.stop();
  }
});
