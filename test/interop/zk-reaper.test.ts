/**
 * Container and TTL nodes are reaped like ZooKeeper's ContainerManager does (zk-protocol.md
 * §2.5): a container that once had children and has none is deleted, one that never had any
 * stays; a TTL node with no children whose mtime is older than its TTL is deleted; with a
 * child it stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('containers and TTL nodes are reaped', { timeout: 30_000 }, async () => {
  const h = await startHarness({ containerCheckIntervalMs: 200 });
  const c = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    const cr = (path: string, flags: number, ttl?: bigint) => c.send(ttl === undefined
      ? { op: 'createContainer', path, data: null, acl: OPEN, flags }
      : { op: 'createTTL', path, data: null, acl: OPEN, flags, ttl });
    assert.equal((await cr('/used', CreateMode.CONTAINER)).header.err, 0);
    assert.equal((await cr('/unused', CreateMode.CONTAINER)).header.err, 0);
    await c.send({ op: 'create', path: '/used/child', data: null, acl: OPEN, flags: 0 });
    await c.send({ op: 'delete', path: '/used/child', version: -1 });
    assert.equal((await cr('/ttl', CreateMode.PERSISTENT_WITH_TTL, 300n)).header.err, 0);
    assert.equal((await cr('/ttl-kept', CreateMode.PERSISTENT_WITH_TTL, 300n)).header.err, 0);
    await c.send({ op: 'create', path: '/ttl-kept/child', data: null, acl: OPEN, flags: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    const exists = async (p: string): Promise<boolean> => (await c.send({ op: 'exists', path: p, watch: false })).header.err === 0;
    assert.equal(await exists('/used'), false, 'an emptied container is reaped');
    assert.equal(await exists('/unused'), true, 'a never-used container stays');
    assert.equal(await exists('/ttl'), false, 'an expired TTL node is reaped');
    assert.equal(await exists('/ttl-kept'), true, 'a TTL node with children stays');
  } finally {
    await c.close();
    await h.stop();
  }
});
