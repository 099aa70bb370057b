/**
 * The change feed survives losing history (etcd compaction past the revision it needs, e.g.
 * after a long partition from an etcd with auto-compaction): it reloads the tree, fires the
 * watches for everything that changed meanwhile, and follows the store again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatcherEvent } from '../../protocol/jute';
import { KvBackend, KvError, KvWatch, KvWatchHandler, KvWatchOptions } from '../../zkproxy/backend/kv-backend';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Delegates to a backend, but lets the test cut the watch feed and report compaction. */
class CuttableBackend implements KvBackend {
  private handler: KvWatchHandler | undefined;
  private inner: KvWatch | undefined;
  private cut = false;

  constructor(private readonly b: MemoryBackend) {}

  range: KvBackend['range'] = (k, o) => this.b.range(k, o);
  txn: KvBackend['txn'] = (t) => this.b.txn(t);
  leaseGrant: KvBackend['leaseGrant'] = (ttl, id) => this.b.leaseGrant(ttl, id);
  leaseKeepAlive: KvBackend['leaseKeepAlive'] = (id) => this.b.leaseKeepAlive(id);
  leaseRevoke: KvBackend['leaseRevoke'] = (id) => this.b.leaseRevoke(id);
  leaseTimeToLive: KvBackend['leaseTimeToLive'] = (id, k) => this.b.leaseTimeToLive(id, k);
  clusterId: KvBackend['clusterId'] = () => this.b.clusterId();

  watch(options: KvWatchOptions, handler: KvWatchHandler): KvWatch {
    this.handler = handler;
    this.cut = false;
    this.inner = this.b.watch(options, {
      onEvents: (e) => !this.cut && handler.onEvents(e),
      onProgress: (r) => !this.cut && handler.onProgress(r),
      onClosed: (e) => handler.onClosed(e),
    });
    return { requestProgress: () => this.inner?.requestProgress(), cancel: () => this.inner?.cancel() };
  }

  /** Events stop reaching the proxy (the feed is partitioned away). */
  cutFeed(): void {
    this.cut = true;
    this.inner?.cancel();
  }

  /** The store says the history the feed needs is gone. */
  reportCompaction(): void {
    this.handler?.onClosed(new KvError('compacted', 'mvcc: required revision has been compacted'));
  }

  async close(): Promise<void> {}
}

/** What a test gets: a reader on a proxy whose feed can be cut, a writer on another proxy. */
interface FeedPair {
  cuttable: CuttableBackend;
  reader: ZkWireClient;
  writer: ZkWireClient;
  /** Notifications the reader got, in order. */
  events: WatcherEvent[];
}

/** Runs `body` against two proxies over one store, the reader's feed cuttable; stops them after. */
async function withFeedPair(body: (p: FeedPair) => Promise<void>): Promise<void> {
  const mem = new MemoryBackend();
  const cuttable = new CuttableBackend(mem);
  const a = await startHarness({ backend: cuttable });
  const b = await startHarness({ backend: mem });
  const events: WatcherEvent[] = [];
  const reader = await ZkWireClient.connect({ host: a.host, port: a.port, onNotification: (e) => events.push(e) });
  const writer = await ZkWireClient.connect({ host: b.host, port: b.port });
  try {
    await body({ cuttable, reader, writer, events });
  } finally {
    reader.drop();
    await writer.close();
    await a.stop();
    await b.stop();
    await mem.close();
  }
}

test('after compaction the feed reloads and fires the missed watches', { timeout: 30_000 }, async () => {
  await withFeedPair(async ({ cuttable, reader, writer, events }) => {
    await writer.send({ op: 'create', path: '/w', data: null, acl: OPEN, flags: 0 });
    await writer.send({ op: 'create', path: '/p', data: null, acl: OPEN, flags: 0 });
    await writer.send({ op: 'create', path: '/gone', data: null, acl: OPEN, flags: 0 });
    await writer.send({ op: 'sync', path: '/' });
    await reader.send({ op: 'sync', path: '/' });
    await reader.send({ op: 'getData', path: '/w', watch: true });
    await reader.send({ op: 'getChildren', path: '/p', watch: true });
    await reader.send({ op: 'exists', path: '/new', watch: true });
    await reader.send({ op: 'exists', path: '/gone', watch: true });
    cuttable.cutFeed();
    await writer.send({ op: 'setData', path: '/w', data: Buffer.from('x'), version: -1 });
    await writer.send({ op: 'create', path: '/p/c', data: null, acl: OPEN, flags: 0 });
    await writer.send({ op: 'create', path: '/new', data: null, acl: OPEN, flags: 0 });
    await writer.send({ op: 'delete', path: '/gone', version: -1 });
    assert.equal(events.length, 0, 'nothing delivered while the feed is cut');
    cuttable.reportCompaction();
    const end = Date.now() + 5000;
    while (events.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events.map((e) => `${e.type} ${e.path}`).sort(), ['1 /new', '2 /gone', '3 /w', '4 /p']);
    const kids = await reader.send({ op: 'getChildren', path: '/p', watch: false });
    assert.deepEqual(kids.body?.op === 'getChildren' && kids.body.children, ['c']);
    await writer.send({ op: 'setData', path: '/w', data: Buffer.from('y'), version: -1 });
    await reader.send({ op: 'sync', path: '/' });
    const w = await reader.send({ op: 'getData', path: '/w', watch: false });
    assert.equal(w.body?.op === 'getData' && w.body.data?.toString(), 'y', 'the feed follows the store again');
  });
});

test('deletions found by the reload are told only to connections that could read the nodes', { timeout: 30_000 }, async () => {
  const bobOnly = [{ perms: 31, id: { scheme: 'digest', id: 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=' } }];
  await withFeedPair(async ({ cuttable, reader, writer, events }) => {
    await writer.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('bob:pw') });
    for (const path of ['/locked', '/lp', '/lp/c', '/open']) await writer.send({ op: 'create', path, data: null, acl: OPEN, flags: 0 });
    await writer.send({ op: 'sync', path: '/' });
    await reader.send({ op: 'sync', path: '/' });
    await reader.send({ op: 'exists', path: '/locked', watch: true });
    await reader.send({ op: 'getChildren', path: '/lp', watch: true });
    await reader.send({ op: 'exists', path: '/open', watch: true });
    await writer.send({ op: 'setACL', path: '/locked', acl: bobOnly, version: -1 });
    await writer.send({ op: 'setACL', path: '/lp', acl: bobOnly, version: -1 });
    await writer.send({ op: 'sync', path: '/' });
    await reader.send({ op: 'sync', path: '/' });
    cuttable.cutFeed();
    // The parent goes with its child: NodeChildrenChanged of /lp is checked against /lp as it was.
    await writer.send({ op: 'multi', ops: [{ op: 'delete', path: '/lp/c', version: -1 }, { op: 'delete', path: '/lp', version: -1 }] });
    await writer.send({ op: 'delete', path: '/locked', version: -1 });
    await writer.send({ op: 'delete', path: '/open', version: -1 });
    cuttable.reportCompaction();
    const end = Date.now() + 5000;
    while (events.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    // A reply is written after every notification queued before it.
    await reader.send({ op: 'exists', path: '/', watch: false });
    assert.deepEqual(events.map((e) => `${e.type} ${e.path}`), ['2 /open']);
  });
});
