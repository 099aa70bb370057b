/**
 * The KvBackend contract zkproxy relies on (zkproxy/backend/kv-backend.ts), as an executable
 * suite any implementation must pass: the in-memory reference, the remote backend over real
 * etcd 3.4, and — when it exists — the in-process core (local-backend.ts). Each check names the
 * zkproxy behaviour that depends on it.
 */
import assert from 'node:assert/strict';
import { KvBackend, KvError, KvEvent } from '../../zkproxy/backend/kv-backend';
import { waitUntil } from '../support/poll';

const b = (s: string): Buffer => Buffer.from(s);

/** One named check. */
export interface Check {
  name: string;
  run(kv: KvBackend, prefix: string): Promise<void>;
}

function collect(kv: KvBackend, prefix: string, startRevision?: number) {
  const events: KvEvent[] = [];
  const batches: number[][] = [];
  const w = kv.watch({ key: b(prefix), rangeEnd: b(prefix + '\xff'), startRevision }, {
    onEvents: (ev) => {
      events.push(...ev);
      batches.push(ev.map((e) => e.kv.modRevision));
    },
    onProgress: () => undefined,
    onClosed: () => undefined,
  });
  return { events, batches, cancel: () => w.cancel() };
}


/** The checks, in a stable order. */
export const CHECKS: Check[] = [
  {
    name: 'txn: one revision, per-key create/mod/version (Stat derivation)',
    run: async (kv, p) => {
      const r1 = await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'a'), value: b('1') }, { type: 'put', key: b(p + 'b'), value: b('2') }], failure: [] });
      assert.ok(r1.succeeded);
      const r2 = await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'a'), value: b('3') }], failure: [] });
      assert.equal(r2.revision, r1.revision + 1, 'one revision per write txn');
      const got = await kv.range(b(p + 'a'));
      assert.equal(got.kvs[0]!.createRevision, r1.revision);
      assert.equal(got.kvs[0]!.modRevision, r2.revision);
      assert.equal(got.kvs[0]!.version, 2);
      assert.equal(got.revision, r2.revision);
    },
  },
  {
    name: 'compares on absent keys see zeros (guards "still absent")',
    run: async (kv, p) => {
      const ok = await kv.txn({ compare: [{ key: b(p + 'none'), target: 'mod', result: 'equal', value: 0 }, { key: b(p + 'none'), target: 'create', result: 'equal', value: 0 }], success: [], failure: [] });
      assert.ok(ok.succeeded);
      await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'x'), value: b('') }], failure: [] });
      const no = await kv.txn({ compare: [{ key: b(p + 'x'), target: 'mod', result: 'equal', value: 0 }], success: [{ type: 'put', key: b(p + 'y'), value: b('') }], failure: [] });
      assert.equal(no.succeeded, false);
      assert.equal((await kv.range(b(p + 'y'))).kvs.length, 0, 'failed guard applies nothing');
    },
  },
  {
    name: 'range: prefix, limit/more, countOnly, ascending key order (tree load, children)',
    run: async (kv, p) => {
      await kv.txn({ compare: [], success: ['c', 'a', 'b'].map((k) => ({ type: 'put' as const, key: b(p + 'r/' + k), value: b(k) })), failure: [] });
      const all = await kv.range(b(p + 'r/'), { rangeEnd: b(p + 'r0'), sortOrder: 'ascend', sortTarget: 'key' });
      assert.deepEqual(all.kvs.map((x) => x.key.toString()), ['a', 'b', 'c'].map((k) => p + 'r/' + k));
      const page = await kv.range(b(p + 'r/'), { rangeEnd: b(p + 'r0'), limit: 2 });
      assert.equal(page.kvs.length, 2);
      assert.equal(page.more, true);
      assert.equal((await kv.range(b(p + 'r/'), { rangeEnd: b(p + 'r0'), countOnly: true })).count, 3);
    },
  },
  {
    name: 'watch: ordered, whole revisions per call, deletes carry their revision (change feed)',
    run: async (kv, p) => {
      const w = collect(kv, p + 'w/');
      await new Promise((r) => setTimeout(r, 100));
      const r1 = await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'w/1'), value: b('') }, { type: 'put', key: b(p + 'w/2'), value: b('') }], failure: [] });
      const r2 = await kv.txn({ compare: [], success: [{ type: 'delete', key: b(p + 'w/1') }], failure: [] });
      await waitUntil('the watch events', () => w.events.length >= 3, 5000, 10);
      w.cancel();
      assert.deepEqual(w.events.map((e) => `${e.type} ${e.kv.key.toString().slice(p.length)} ${e.kv.modRevision}`), [`put w/1 ${r1.revision}`, `put w/2 ${r1.revision}`, `delete w/1 ${r2.revision}`]);
      for (const batch of w.batches) assert.ok(!batch.includes(r1.revision) || batch.filter((x) => x === r1.revision).length === 2, 'a revision is never split');
    },
  },
  {
    name: 'watch from a past revision replays history (feed restart)',
    run: async (kv, p) => {
      const r1 = await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'h/1'), value: b('') }], failure: [] });
      await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'h/2'), value: b('') }], failure: [] });
      const w = collect(kv, p + 'h/', r1.revision);
      await waitUntil('the watch events', () => w.events.length >= 2, 5000, 10);
      w.cancel();
      assert.deepEqual(w.events.map((e) => e.kv.key.toString().slice(p.length)), ['h/1', 'h/2']);
    },
  },
  {
    name: 'leases: keys attached, keep-alive, revoke deletes them in one revision (sessions)',
    run: async (kv, p) => {
      const { id, ttl } = await kv.leaseGrant(30);
      assert.ok(id > 0n && ttl >= 30);
      await kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'l/1'), value: b(''), lease: id }, { type: 'put', key: b(p + 'l/2'), value: b(''), lease: id }], failure: [] });
      assert.equal((await kv.range(b(p + 'l/1'))).kvs[0]!.lease, id);
      assert.ok((await kv.leaseKeepAlive(id)) > 0);
      const info = await kv.leaseTimeToLive(id, true);
      assert.ok(info.ttl > 0 && info.ttl <= info.grantedTtl);
      assert.equal(info.keys.length, 2);
      const w = collect(kv, p + 'l/');
      await new Promise((r) => setTimeout(r, 100));
      await kv.leaseRevoke(id);
      await waitUntil('the watch events', () => w.events.length >= 2, 5000, 10);
      w.cancel();
      assert.equal(new Set(w.events.map((e) => e.kv.modRevision)).size, 1, 'one revision');
      assert.equal((await kv.leaseTimeToLive(id)).ttl, -1);
      assert.equal(await kv.leaseKeepAlive(id).catch(() => 0), 0);
      await assert.rejects(kv.txn({ compare: [], success: [{ type: 'put', key: b(p + 'l/3'), value: b(''), lease: id }], failure: [] }),
        (e: unknown) => e instanceof KvError && e.code === 'lease-not-found');
      await assert.rejects(kv.leaseRevoke(id), (e: unknown) => e instanceof KvError && e.code === 'lease-not-found');
    },
  },
  {
    name: 'limits: one op over maxTxnOps (etcd default 128) is too-many-ops, at the limit is fine (multi size)',
    run: async (kv, p) => {
      const max = kv.maxTxnOps ?? 128;
      const ops = Array.from({ length: max + 1 }, (_, i) => ({ type: 'put' as const, key: b(`${p}m/${i}`), value: b('') }));
      await assert.rejects(kv.txn({ compare: [], success: ops, failure: [] }), (e: unknown) => e instanceof KvError && e.code === 'too-many-ops');
      const fits = await kv.txn({ compare: [], success: ops.slice(0, max), failure: [] });
      assert.equal(fits.succeeded, true);
    },
  },
];
