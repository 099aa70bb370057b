/**
 * The change feed's tree load (zkproxy/watch/change-feed.ts) reports its progress while it
 * pages through a large key space: a start that takes seconds must show it is working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../../../zkproxy/backend/memory-backend';
import { KeySchema } from '../../../../zkproxy/mapping/key-schema';
import { ZnodeTree } from '../../../../zkproxy/mapping/znode-tree';
import { ChangeFeed } from '../../../../zkproxy/watch/change-feed';
import { ZK_LOAD_PAGE_KEYS } from '../../../../zkproxy/limits';
import { ZkLogFn, ZkLogger } from '../../../../zkproxy/logger';

test('a tree load of several pages logs its progress, page by page', async () => {
  const keys = new KeySchema();
  const backend = new MemoryBackend(10_000);
  const total = 2 * ZK_LOAD_PAGE_KEYS + 17;
  for (let i = 0; i < total; i += 5000) {
    const ops = [];
    for (let j = i; j < Math.min(total, i + 5000); j++) ops.push({ type: 'put' as const, key: keys.nodeKey(`/n${j}`), value: Buffer.from('x') });
    await backend.txn({ compare: [], success: ops, failure: [] });
  }
  const progress: number[] = [];
  const noop: ZkLogFn = () => {};
  const info: ZkLogFn = (a: object | string, msg?: string) => {
    if (msg === 'loading the znode tree') progress.push((a as { keys: number }).keys);
  };
  const logger: ZkLogger = { trace: noop, debug: noop, info, warn: noop, error: noop, fatal: noop, child: () => logger };
  const feed = new ChangeFeed(backend, new ZnodeTree(keys), logger, 0);
  await feed.start();
  try {
    assert.deepEqual(progress, [ZK_LOAD_PAGE_KEYS, 2 * ZK_LOAD_PAGE_KEYS, total]);
  } finally {
    feed.close();
    await backend.close();
  }
});
