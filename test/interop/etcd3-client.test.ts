/**
 * The `etcd3` npm client against the real `coracle` binary: KV, watch (including resuming after
 * the server was killed and restarted), leases with keep-alive and expiry, locks, elections and
 * STM. Each check observes an effect the feature is responsible for, so it fails if the
 * feature is missing: keep-alives must keep a key alive past its TTL, a revoke or an expiry must
 * remove keys, a second lock contender must be refused, an election follower must be elected
 * only after the leader resigns, and conflicting STM increments must all land.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3, EtcdLockFailedError, IKeyValue } from 'etcd3';
import { startCoracle, CoracleServer } from '../support/coracle-server';
import { pollUntil, sleep } from '../support/poll';

/** One coracle for the whole file (etcd mode only; the tests use disjoint key prefixes). */
let server: CoracleServer | undefined;
async function coracle(): Promise<CoracleServer> {
  server ??= await startCoracle(['--zk-listen', '']);
  return server;
}

function client(s: CoracleServer): Etcd3 {
  return new Etcd3({ hosts: `http://${s.endpoint}`, dialTimeout: 3000 });
}

test.after(async () => {
  if (server) await server.stop();
});

/** Collects a watcher's events as `type key value` strings. */
function recorder(): { seen: string[]; put: (kv: IKeyValue) => void; del: (kv: IKeyValue) => void } {
  const seen: string[] = [];
  return {
    seen,
    put: (kv) => seen.push(`put ${kv.key.toString()} ${kv.value.toString()}`),
    del: (kv) => seen.push(`delete ${kv.key.toString()}`),
  };
}

test('etcd3: KV put, get, prefix, range, delete', async () => {
  const c = client(await coracle());
  try {
    await c.put('kv/a').value('1');
    await c.put('kv/b').value('2');
    await c.put('kv/c').value('3');
    await c.put('kw').value('outside');
    assert.equal(await c.get('kv/a').string(), '1');
    assert.equal(await c.get('kv/none').string(), null);
    assert.deepEqual(await c.getAll().prefix('kv/').strings(), { 'kv/a': '1', 'kv/b': '2', 'kv/c': '3' });
    assert.deepEqual(await c.getAll().inRange({ start: 'kv/b', end: 'kv/c' }).keys(), ['kv/b']);
    assert.equal(await c.getAll().prefix('kv/').count(), 3);
    const del = await c.delete().prefix('kv/');
    assert.equal(del.deleted, '3');
    assert.deepEqual(await c.getAll().prefix('kv/').keys(), []);
    assert.equal(await c.get('kw').string(), 'outside');
  } finally {
    c.close();
  }
});

test('etcd3: watch a key and a prefix, in order, until canceled', async () => {
  const c = client(await coracle());
  try {
    const one = recorder();
    const all = recorder();
    const wKey = await c.watch().key('w/x').create();
    wKey.on('put', one.put).on('delete', one.del);
    const wPrefix = await c.watch().prefix('w/').create();
    wPrefix.on('put', all.put).on('delete', all.del);
    await c.put('w/x').value('1');
    await c.put('w/y').value('2');
    await c.put('w/x').value('3');
    await c.delete().key('w/x');
    await c.put('v/outside').value('no');
    await pollUntil('prefix events', async () => (all.seen.length >= 4 ? true : undefined), 5000, 20);
    assert.deepEqual(one.seen, ['put w/x 1', 'put w/x 3', 'delete w/x']);
    assert.deepEqual(all.seen, ['put w/x 1', 'put w/y 2', 'put w/x 3', 'delete w/x']);
    await wKey.cancel();
    await c.put('w/x').value('after cancel');
    await pollUntil('prefix sees the put', async () => (all.seen.length >= 5 ? true : undefined), 5000, 20);
    await sleep(100);
    assert.deepEqual(one.seen, ['put w/x 1', 'put w/x 3', 'delete w/x'], 'no event after cancel');
    await wPrefix.cancel();
  } finally {
    c.close();
  }
});

test('etcd3: leases keep keys alive, revoke and expiry remove them', async () => {
  const c = client(await coracle());
  try {
    // A 3 s lease kept alive (the client renews every TTL/3) outlives its TTL.
    const kept = c.lease(3);
    let renewals = 0;
    kept.on('keepaliveSucceeded', () => renewals++);
    await kept.put('lease/kept').value('v');
    await kept.put('lease/kept2').value('v');
    await sleep(4500);
    assert.ok(renewals >= 2, `keep-alives answered (${renewals})`);
    assert.equal(await c.get('lease/kept').string(), 'v', 'kept alive past its TTL');
    await kept.revoke();
    assert.deepEqual(await c.getAll().prefix('lease/kept').keys(), [], 'revoke deleted both keys');

    // A lease nobody renews expires and takes its key with it.
    const watch = await c.watch().key('lease/expiring').create();
    const events = recorder();
    watch.on('put', events.put).on('delete', events.del);
    const lapsing = c.lease(2, { autoKeepAlive: false });
    await lapsing.put('lease/expiring').value('soon');
    assert.equal(await c.get('lease/expiring').string(), 'soon');
    await pollUntil('expiry', async () => ((await c.get('lease/expiring').string()) === null ? true : undefined), 8000, 100);
    await pollUntil('delete event', async () => (events.seen.length >= 2 ? true : undefined), 3000, 20);
    assert.deepEqual(events.seen, ['put lease/expiring soon', 'delete lease/expiring']);
    await watch.cancel();
    lapsing.release();
  } finally {
    c.close();
  }
});

test('etcd3: a lock admits one holder at a time', async () => {
  const c = client(await coracle());
  try {
    const order: string[] = [];
    let inside = 0;
    const first = c.lock('locks/job').ttl(5).do(async () => {
      inside++;
      order.push('A in');
      await sleep(500);
      assert.equal(inside, 1, 'alone in the critical section');
      order.push('A out');
      inside--;
    });
    await pollUntil('A holds the lock', async () => (order.includes('A in') ? true : undefined), 5000, 10);
    await assert.rejects(c.lock('locks/job').do(async () => order.push('B in while A holds')), EtcdLockFailedError);
    await first;
    await c.lock('locks/job').do(async () => order.push('B in'));
    assert.deepEqual(order, ['A in', 'A out', 'B in']);
    assert.deepEqual(await c.getAll().prefix('locks/job').keys(), [], 'released: the lock key is gone with its lease');
  } finally {
    c.close();
  }
});

test('etcd3: election campaign, observe, resign', async () => {
  const c = client(await coracle());
  try {
    const election = c.election('jobs', 5);
    const a = election.campaign('alice');
    await a.wait();
    const observer = await election.observe();
    assert.equal(observer.leader(), 'alice');
    const changes: string[] = [];
    observer.on('change', (leader: string | undefined) => changes.push(String(leader)));
    const b = election.campaign('bob');
    let bobElected = false;
    b.on('elected', () => (bobElected = true));
    await sleep(500);
    assert.equal(bobElected, false, 'bob waits while alice leads');
    assert.equal(await election.leader(), 'alice');
    await a.resign();
    await pollUntil('bob elected', async () => (bobElected ? true : undefined), 5000, 20);
    await pollUntil('observer saw bob', async () => (changes.includes('bob') ? true : undefined), 5000, 20);
    assert.equal(await election.leader(), 'bob');
    await observer.cancel();
    await b.resign();
    assert.equal(await election.leader(), undefined);
  } finally {
    c.close();
  }
});

test('etcd3: STM increments that conflict all land', async () => {
  const c = client(await coracle());
  try {
    await c.put('stm/counter').value('0');
    const contenders = 3;
    const each = 5;
    let attempts = 0;
    const increment = () =>
      c.stm({ retries: 100 }).transact(async (tx) => {
        attempts++;
        const v = Number(await tx.get('stm/counter').string());
        await sleep(15); // widen the window so concurrent transactions really conflict
        await tx.put('stm/counter').value(String(v + 1));
      });
    await Promise.all(Array.from({ length: contenders }, async () => {
      for (let i = 0; i < each; i++) await increment();
    }));
    assert.equal(await c.get('stm/counter').string(), String(contenders * each));
    assert.ok(attempts > contenders * each, `some transactions conflicted and were retried (${attempts} attempts)`);
  } finally {
    c.close();
  }
});

test('etcd3: a watcher resumes after the server is killed and restarted', async () => {
  const s = await coracle();
  const c = client(s);
  try {
    const events = recorder();
    const w = await c.watch().key('resume/k').create();
    w.on('put', events.put).on('delete', events.del);
    await c.put('resume/k').value('before');
    await pollUntil('first event', async () => (events.seen.length >= 1 ? true : undefined), 5000, 20);
    await s.kill9();
    await s.restart();
    // Written by another client before the watcher has reconnected: it must still arrive, once.
    const other = client(s);
    try {
      await other.put('resume/k').value('while away');
    } finally {
      other.close();
    }
    await pollUntil('events after restart', async () => {
      if (events.seen.length < 2) return undefined;
      return true;
    }, 20_000, 50);
    await c.put('resume/k').value('after');
    await pollUntil('last event', async () => (events.seen.length >= 3 ? true : undefined), 10_000, 20);
    await sleep(100);
    assert.deepEqual(events.seen, ['put resume/k before', 'put resume/k while away', 'put resume/k after']);
    await w.cancel();
  } finally {
    c.close();
  }
});
