/** startZkProxy's option checks: a usage error is refused before anything starts or is written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../../zkproxy/backend/memory-backend';
import { startZkProxy } from '../../../zkproxy/zk-proxy';

test('neither a plain nor a secure port is refused before the key space is touched', async () => {
  const backend = new MemoryBackend();
  try {
    await assert.rejects(startZkProxy({ backend, port: 0, plain: false }), /the ZooKeeper front end needs a plain or a secure port/);
    const all = await backend.range(Buffer.from('/'), { rangeEnd: Buffer.from([0]) });
    assert.equal(all.kvs.length, 0, 'nothing bootstrapped');
  } finally {
    await backend.close();
  }
});
