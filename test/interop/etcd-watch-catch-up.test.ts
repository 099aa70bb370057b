/**
 * Differential test of watches that resume from history, as etcd clients do after a reconnect:
 * after 3,000 puts over 100 keys, one Watch stream creates 100 watchers from revision 1. Each
 * watcher must receive every event of its key, in order, exactly once, as real etcd 3.4 sends
 * them. With this many events at once the stream's send buffer fills, so watchers are stopped
 * and resumed mid-catch-up: the path that once skipped them to the head of the history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { startCoracle } from '../support/coracle-server';
import { createReq, dial, kv, watchStream } from './etcd-watch-harness';

const KEYS = 100;
const PUTS = 3000;
const IN_FLIGHT = 16;
const WAIT_MS = 30_000;

/** Per watch id, its events as `key#version`, after checking their revisions only increase. */
async function resumeAll(endpoint: string): Promise<Map<string, string[]>> {
  const c: grpc.Client = dial(endpoint);
  const s = watchStream(c);
  try {
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < PUTS) {
        const i = next++;
        const r = await kv.put(c, `/k/${i % KEYS}`, `v${i}`);
        assert.ok(r.ok, `put ${i} on ${endpoint} failed`);
      }
    }));
    for (let i = 0; i < KEYS; i++) s.send(createReq({ key: Buffer.from(`/k/${i}`), startRevision: 1n }));
    const got = new Map<string, string[]>();
    const lastRev = new Map<string, bigint>();
    let events = 0;
    for (const end = Date.now() + WAIT_MS; Date.now() < end && events < PUTS && !s.ended;) {
      for (const r of await s.take(1, 1000, 0)) {
        const id = String(r.watchId);
        for (const e of r.events) {
          const kvp = e.kv!;
          assert.ok(kvp.modRevision > (lastRev.get(id) ?? 0n), `watcher ${id} on ${endpoint}: revisions go back or repeat`);
          lastRev.set(id, kvp.modRevision);
          let list = got.get(id);
          if (!list) got.set(id, (list = []));
          list.push(`${kvp.key.toString()}#${kvp.version}`);
          events++;
        }
      }
    }
    return got;
  } finally {
    s.close();
    c.close();
  }
}

test('Watch: 100 watchers resuming from revision 1 on one stream get every event, as from etcd 3.4', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const [etcd, coracle] = await Promise.all([startEtcd(), startCoracle(['--zk-listen', ''])]);
  try {
    const [want, got] = await Promise.all([resumeAll(etcd.endpoints[0]!), resumeAll(coracle.endpoint)]);
    const count = (m: Map<string, string[]>): number => [...m.values()].reduce((n, l) => n + l.length, 0);
    assert.equal(count(want), PUTS, 'etcd delivered every event');
    assert.equal(want.size, KEYS);
    for (const [id, events] of want) assert.deepEqual(got.get(id), events, `watcher ${id}`);
    assert.equal(count(got), PUTS);
  } finally {
    await Promise.all([coracle.stop(), etcd.stop()]);
  }
});
