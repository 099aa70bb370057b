/**
 * Sequential creates under one parent from many connections at once (ops/sequence-chains.ts):
 * they are committed while the ones before them are still in flight, yet every suffix is what
 * ZooKeeper would give: in zxid order, each sequential create gets the parent's create counter
 * as it stands (every create before it under the parent, sequential or not), no suffix twice,
 * and the parent's cversion and child count come out exact, also with another client creating
 * and deleting other children of the same parent in between (which makes creates in flight fail
 * their guards and run again). Run over the memory backend (with a delay per txn, so that
 * creates overlap and the test can count how many were in flight at once) and over `coracle`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr, type Stat } from '../../protocol/jute';
import { KvBackend } from '../../zkproxy/backend/kv-backend';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';
import { startCoracle } from '../support/coracle-server';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const CLIENTS = 8;
const PER_CLIENT = 25;
const CHURN = 20;

/** A memory backend whose txns each take a few ms (in call order), counting how many overlap. */
function slowBackend(mem: MemoryBackend): { backend: KvBackend; maxInFlight: () => number; resetMax: () => void } {
  let inFlight = 0;
  let max = 0;
  const txn: KvBackend['txn'] = async (t) => {
    inFlight++;
    max = Math.max(max, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 3));
      return await mem.txn(t);
    } finally {
      inFlight--;
    }
  };
  const backend = new Proxy(mem, {
    get(target, prop) {
      if (prop === 'txn') return txn;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as KvBackend;
  return { backend, maxInFlight: () => max, resetMax: () => (max = inFlight) };
}

interface Made {
  path: string;
  czxid: bigint;
  sequential: boolean;
}

function statOfReply(body: unknown): Stat {
  const b = body as { op: string; stat: Stat };
  assert.equal(b.op, 'create2');
  return b.stat;
}

/**
 * CLIENTS connections each send PER_CLIENT sequential create2 under `/q` at once, while one more
 * creates and deletes CHURN other children of `/q`; then checks every suffix against the create
 * counter in zxid order, and the parent's Stat.
 */
async function raceAndCheck(host: string, port: number, beforeRace: () => void = () => {}): Promise<void> {
  const clients = await Promise.all(Array.from({ length: CLIENTS + 1 }, () => ZkWireClient.connect({ host, port })));
  try {
    const [churner, ...seqClients] = clients as [ZkWireClient, ...ZkWireClient[]];
    const root = await churner.send({ op: 'create', path: '/q', data: null, acl: OPEN, flags: 0 });
    assert.equal(root.header.err, ZkErr.OK);
    beforeRace();
    const made: Made[] = [];
    const churn = (async () => {
      for (let i = 0; i < CHURN; i++) {
        const r = await churner.send({ op: 'create2', path: `/q/other-${i}`, data: null, acl: OPEN, flags: 0 });
        assert.equal(r.header.err, ZkErr.OK, `create /q/other-${i}`);
        made.push({ path: `/q/other-${i}`, czxid: statOfReply(r.body).czxid, sequential: false });
        const d = await churner.send({ op: 'delete', path: `/q/other-${i}`, version: -1 });
        assert.equal(d.header.err, ZkErr.OK, `delete /q/other-${i}`);
      }
    })();
    const seqs = seqClients.map(async (c, ci) => {
      const replies = await Promise.all(Array.from({ length: PER_CLIENT }, () => c.send({ op: 'create2', path: '/q/s-', data: Buffer.from(`c${ci}`), acl: OPEN, flags: 2 })));
      let lastZxid = -1n;
      for (const r of replies) {
        assert.equal(r.header.err, ZkErr.OK, 'a sequential create failed');
        const b = r.body as { path: string; stat: Stat };
        assert.ok(r.header.zxid > lastZxid, 'replies of one connection in request order');
        lastZxid = r.header.zxid;
        made.push({ path: b.path, czxid: statOfReply(r.body).czxid, sequential: true });
      }
    });
    await Promise.all([churn, ...seqs]);

    made.sort((a, b) => (a.czxid < b.czxid ? -1 : a.czxid > b.czxid ? 1 : 0));
    assert.equal(new Set(made.map((m) => m.czxid)).size, made.length, 'one zxid per create');
    let counter = 0;
    for (const m of made) {
      if (m.sequential) assert.equal(m.path, `/q/s-${String(counter).padStart(10, '0')}`, `the create at zxid ${m.czxid}`);
      counter++;
    }
    const parent = await churner.send({ op: 'exists', path: '/q', watch: false });
    const stat = (parent.body as { stat: Stat }).stat;
    assert.equal(stat.numChildren, CLIENTS * PER_CLIENT);
    assert.equal(stat.cversion, CLIENTS * PER_CLIENT + 2 * CHURN, 'cversion counts every child create and delete');
    const next = await churner.send({ op: 'create', path: '/q/s-', data: null, acl: OPEN, flags: 2 });
    assert.equal((next.body as { path: string }).path, `/q/s-${String(counter).padStart(10, '0')}`, 'the next suffix follows on');
  } finally {
    for (const c of clients) await c.close();
  }
}

test('sequential creates from many connections overlap and number exactly as ZooKeeper (memory backend)', async () => {
  const mem = new MemoryBackend();
  const { backend, maxInFlight, resetMax } = slowBackend(mem);
  const h = await startHarness({ backend });
  try {
    await raceAndCheck(h.host, h.port, resetMax);
    const raceMax = maxInFlight();
    // One at a time, the churner's write would make it 2 at most.
    assert.ok(raceMax >= 4, `sequential creates under one parent were committed one at a time (at most ${raceMax} txns in flight)`);
  } finally {
    await h.stop();
    await mem.close();
  }
});

test('sequential creates from many connections number exactly as ZooKeeper (coracle, LMDB)', async () => {
  const server = await startCoracle();
  try {
    await raceAndCheck('127.0.0.1', server.zkPort);
  } finally {
    await server.stop();
  }
});
