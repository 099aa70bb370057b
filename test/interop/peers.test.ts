/**
 * Smoke test of the peer launchers and client runners in test/support: a real etcd answers
 * etcdctl, a real ZooKeeper answers zkCli and kazoo, and stopping them leaves no process and no
 * data dir behind. Skips when a peer is missing, unless CORACLE_REQUIRE_PEERS=1 (then fails).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { startEtcd } from '../support/etcd-peer';
import { etcdctl, etcdctlJson } from '../support/etcdctl';
import { kazoo, KazooError } from '../support/kazoo';
import { requirePeer } from '../support/peers';
import { freePorts, releasePorts } from '../support/ports';
import { zkCli } from '../support/zk-cli';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('freePorts: distinct, bindable, released', async () => {
  const ports = await freePorts(8);
  assert.equal(new Set(ports).size, 8);
  for (const p of ports) assert.ok(p > 0 && p < 65536);
  releasePorts(ports);
});

test('etcd: start, put/get with etcdctl, stop', async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  try {
    t.diagnostic(`etcd up in ${etcd.startupMs.toFixed(0)} ms at ${etcd.endpoints.join(',')}`);
    const put = await etcdctl(etcd.endpoints, ['put', '/smoke/k', 'v1']);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(put.stdout.trim(), 'OK');
    const get = await etcdctl(etcd.endpoints, ['get', '/smoke/k']);
    assert.equal(get.stdout, '/smoke/k\nv1\n');
    const json = await etcdctlJson<{ header: { cluster_id: string; revision: number }; kvs: Array<{ value: string }> }>(etcd.endpoints, ['get', '/smoke/k']);
    assert.equal(Buffer.from(json.kvs[0]?.value ?? '', 'base64').toString(), 'v1');
    assert.equal(typeof json.header.cluster_id, 'string', 'uint64 ids come back as strings');
    const health = await etcdctl(etcd.endpoints, ['endpoint', 'health']);
    assert.match(health.stderr, /is healthy/, 'etcdctl 3.4 prints endpoint health on stderr');
  } finally {
    await etcd.stop();
  }
  assert.ok(!alive(etcd.members[0]?.process.pid as number), 'etcd process is gone');
  assert.ok(!fs.existsSync(etcd.members[0]?.dataDir as string), 'data dir removed');
});

test('etcd: three members, one crashes and restarts', async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd({ members: 3 });
  try {
    t.diagnostic(`3-member etcd up in ${etcd.startupMs.toFixed(0)} ms`);
    const list = await etcdctlJson<{ members: unknown[] }>(etcd.endpoints, ['member', 'list']);
    assert.equal(list.members.length, 3);
    await etcd.killMember(2);
    // The killed member may have been the leader: a write issued during the re-election can
    // time out ("etcdserver: request timed out", Unavailable), and a real client retries it.
    // At most 4 attempts of 5 s each; a put is idempotent here.
    let put = await etcdctl(etcd.endpoints.slice(0, 2), ['put', 'k', 'during-crash']);
    for (let attempt = 1; attempt < 4 && put.code !== 0 && /timed out|no leader|leader changed/.test(put.stderr); attempt++) {
      put = await etcdctl(etcd.endpoints.slice(0, 2), ['put', 'k', 'during-crash']);
    }
    assert.equal(put.code, 0, put.stderr);
    await etcd.restartMember(2);
    const get = await etcdctl([etcd.endpoints[2] as string], ['get', 'k', '--print-value-only']);
    assert.equal(get.stdout.trim(), 'during-crash');
  } finally {
    await etcd.stop();
  }
});

test('zookeeper: start, create/get with zkCli and kazoo, stop', async (t) => {
  const skip = requirePeer('zookeeper', 'zkCli', 'kazoo');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper();
  try {
    t.diagnostic(`ZooKeeper ${zk.version} up in ${zk.startupMs.toFixed(0)} ms at ${zk.connectString}`);
    assert.match(zk.version, /^3\.8\./);
    assert.equal(await fourLetterWord(zk.host, zk.port, 'ruok'), 'imok');

    const cli = await zkCli(zk.connectString, ['create /smoke hello', 'create -e /smoke/eph x', 'get /smoke', 'ls /smoke'], { mergeStderr: true });
    assert.equal(cli.code, 0, cli.stdout);
    assert.match(cli.stdout, /Created \/smoke\n/);
    assert.match(cli.stdout, /\nhello\n/);
    assert.match(cli.stdout, /\[eph\]/);

    const r = await kazoo<{ data: string; stat: { version: number; dataLength: number; numChildren: number }; children: string[] }>(
      zk.connectString,
      `
      data, stat = zk.get('/smoke')
      zk.create('/smoke/from-kazoo', b'k')
      result = {'data': data, 'stat': stat, 'children': sorted(zk.get_children('/smoke'))}
      `,
    );
    assert.equal(r.data, 'hello');
    assert.equal(r.stat.dataLength, 5);
    assert.equal(r.stat.numChildren, 0, "zkCli's quit closed its session, so its ephemeral is gone");
    assert.deepEqual(r.children, ['from-kazoo']);

    await assert.rejects(kazoo(zk.connectString, `zk.get('/missing')`), (err: unknown) => err instanceof KazooError && err.pythonError === 'NoNodeError');
  } finally {
    await zk.stop();
  }
  assert.ok(!alive(zk.process.pid), 'java process is gone');
  assert.ok(!fs.existsSync(zk.dataDir), 'data dir removed');
});
