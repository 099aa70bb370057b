/**
 * Ordering guarantees (ZooKeeper programmer's guide, "Watches": a client sees the watch event
 * for a change before it sees any reply reflecting that change; zk-protocol.md §2.2, §6.2).
 * A reader on one proxy watches a node that a writer changes through another proxy of the
 * same store (and through the same proxy); whenever the reader's reply shows the new version,
 * the notification must have been received in an earlier frame. Replies come in request order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('a notification always precedes the first reply that shows its change', { timeout: 60_000 }, async () => {
  const backend = new MemoryBackend();
  const a = await startHarness({ backend });
  const b = await startHarness({ backend });
  const notified: number[] = [];
  const reader = await ZkWireClient.connect({ host: a.host, port: a.port, onNotification: (_e, frame) => notified.push(frame) });
  const sameProxyWriter = await ZkWireClient.connect({ host: a.host, port: a.port });
  const otherProxyWriter = await ZkWireClient.connect({ host: b.host, port: b.port });
  try {
    await reader.send({ op: 'create', path: '/o', data: null, acl: OPEN, flags: 0 });
    let sawNewBeforeEvent = 0;
    for (let i = 1; i <= 60; i++) {
      const armed = await reader.send({ op: 'getData', path: '/o', watch: true });
      assert.equal(armed.header.err, 0);
      const writer = i % 2 === 0 ? sameProxyWriter : otherProxyWriter;
      const before = notified.length;
      // Fire the write and the reads without waiting, so they race inside the proxies.
      const w = writer.send({ op: 'setData', path: '/o', data: Buffer.from(String(i)), version: -1 });
      const reads = Array.from({ length: 5 }, () => reader.send({ op: 'exists', path: '/o', watch: false }));
      await w;
      const replies = await Promise.all(reads);
      let last = 0;
      for (const r of replies) {
        assert.ok(r.frame > last, 'replies in request order');
        last = r.frame;
        const stat = r.body?.op === 'stat' ? r.body.stat : undefined;
        if (stat?.version === i) {
          const event = notified[before];
          if (event === undefined || event > r.frame) sawNewBeforeEvent++;
        }
      }
      const deadline = Date.now() + 2000;
      while (notified.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(notified.length, before + 1, `exactly one event for change ${i}`);
    }
    assert.equal(sawNewBeforeEvent, 0, 'no reply showed a change before its notification');
  } finally {
    reader.drop();
    await sameProxyWriter.close();
    await otherProxyWriter.close();
    await a.stop();
    await b.stop();
    await backend.close();
  }
});
