/**
 * Sequential creates under one parent from many connections at once (ops/sequence-chains.ts):
 * they are committed while the ones before them are still in flight, yet every suffix is what
 * ZooKeeper would give: in zxid order, each sequential create gets the parent's create counter
 * as it stands (every create before it under the parent, sequential or not), no suffix twice,
 * and the parent's cversion and child count come out exact, also with another client creating
 * and deleting other children of the same parent in between (which makes creates in flight fail
 * their guards and run again). Run over the memory backend (with a delay per txn, so that
 * creates overlap and the test can count how many were in flight at once) and over `coracle`.
 *
 * One connection pipelining its own sequential creates (Kafka's and Curator's async clients)
 * gets them committed together too, mixed with its other writes, in request order.
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

type Check = (host: string, port: number, beforeRace?: () => void) => Promise<void>;

/**
 * Runs `check` over the memory backend slowed per txn, and fails unless at least 4 txns were in
 * flight at once during the race (`what` names the creates for the message).
 */
async function overlapsOnMemory(check: Check, what: string): Promise<void> {
  const mem = new MemoryBackend();
  const { backend, maxInFlight, resetMax } = slowBackend(mem);
  const h = await startHarness({ backend });
  try {
    await check(h.host, h.port, resetMax);
    const raceMax = maxInFlight();
    // One at a time, the churner's write would make it 2 at most.
    assert.ok(raceMax >= 4, `${what} were committed one at a time (at most ${raceMax} txns in flight)`);
  } finally {
    await h.stop();
    await mem.close();
  }
}

/** Runs `check` against a `coracle` server (in-process core, LMDB). */
async function onCoracle(check: Check): Promise<void> {
  const server = await startCoracle();
  try {
    await check('127.0.0.1', server.zkPort);
  } finally {
    await server.stop();
  }
}

test('sequential creates from many connections overlap and number exactly as ZooKeeper (memory backend)', () =>
  overlapsOnMemory(raceAndCheck, 'sequential creates under one parent'));

test('sequential creates from many connections number exactly as ZooKeeper (coracle, LMDB)', () => onCoracle(raceAndCheck));

/** What the pipelining connection sends, in order: mostly sequential creates under /q, mixed. */
function pipelinedProgram(): { label: string; req: Parameters<ZkWireClient['send']>[0] }[] {
  const out: { label: string; req: Parameters<ZkWireClient['send']>[0] }[] = [];
  for (let i = 0; i < 48; i++) {
    if (i === 20) out.push({ label: 'setData /q', req: { op: 'setData', path: '/q', data: Buffer.from('parent'), version: -1 } });
    else if (i % 9 === 4) out.push({ label: `create /q/p-${i}`, req: { op: 'create2', path: `/q/p-${i}`, data: null, acl: OPEN, flags: 0 } });
    else if (i % 7 === 3) out.push({ label: 'sequential /r', req: { op: 'create2', path: '/r/s-', data: null, acl: OPEN, flags: 2 } });
    else if (i % 11 === 6) out.push({ label: 'setData /data', req: { op: 'setData', path: '/data', data: Buffer.from(`v${i}`), version: -1 } });
    else out.push({ label: 'sequential /q', req: { op: 'create2', path: '/q/s-', data: null, acl: OPEN, flags: 2 } });
  }
  return out;
}

/**
 * One connection sends {@link pipelinedProgram} at once while another creates and deletes other
 * children of /q. Every reply is OK and in request order (zxids rising), and every sequential
 * suffix under /q and /r is the create counter at its zxid.
 */
async function pipelineAndCheck(host: string, port: number, beforeRace: () => void = () => {}): Promise<void> {
  const [piper, churner] = await Promise.all([ZkWireClient.connect({ host, port }), ZkWireClient.connect({ host, port })]);
  try {
    for (const path of ['/q', '/r', '/data']) assert.equal((await churner.send({ op: 'create', path, data: null, acl: OPEN, flags: 0 })).header.err, ZkErr.OK);
    beforeRace();
    const made = new Map<string, Made[]>([['/q', []], ['/r', []]]);
    const churn = (async () => {
      for (let i = 0; i < CHURN; i++) {
        const r = await churner.send({ op: 'create2', path: `/q/other-${i}`, data: null, acl: OPEN, flags: 0 });
        assert.equal(r.header.err, ZkErr.OK, `create /q/other-${i}`);
        made.get('/q')!.push({ path: `/q/other-${i}`, czxid: statOfReply(r.body).czxid, sequential: false });
        assert.equal((await churner.send({ op: 'delete', path: `/q/other-${i}`, version: -1 })).header.err, ZkErr.OK);
      }
    })();
    const program = pipelinedProgram();
    const replies = await Promise.all(program.map((p) => piper.send(p.req)));
    await churn;
    let lastZxid = -1n;
    for (const [i, r] of replies.entries()) {
      assert.equal(r.header.err, ZkErr.OK, `request ${i} (${program[i]!.label})`);
      assert.ok(r.header.zxid > lastZxid, `request ${i} (${program[i]!.label}) committed after the one before it`);
      lastZxid = r.header.zxid;
      const req = program[i]!.req;
      if (req.op !== 'create2') continue;
      const path = (r.body as { path: string }).path;
      made.get(path.startsWith('/q/') ? '/q' : '/r')!.push({ path, czxid: statOfReply(r.body).czxid, sequential: req.flags === 2 });
    }
    for (const [parent, creates] of made) {
      creates.sort((a, b) => (a.czxid < b.czxid ? -1 : a.czxid > b.czxid ? 1 : 0));
      creates.forEach((m, counter) => {
        if (m.sequential) assert.equal(m.path, `${parent}/s-${String(counter).padStart(10, '0')}`, `the create at zxid ${m.czxid}`);
      });
    }
  } finally {
    await piper.close();
    await churner.close();
  }
}

test('one connection\'s pipelined sequential creates overlap, in request order, numbered as ZooKeeper (memory backend)', () =>
  overlapsOnMemory(pipelineAndCheck, 'one connection\'s sequential creates'));

test('one connection\'s pipelined sequential creates, in request order, numbered as ZooKeeper (coracle, LMDB)', () => onCoracle(pipelineAndCheck));

test('one connection\'s burst of sequential creates under one parent commits together, numbered in request order (memory backend)', async () => {
  const mem = new MemoryBackend();
  const { backend, maxInFlight, resetMax } = slowBackend(mem);
  const h = await startHarness({ backend });
  const c = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    assert.equal((await c.send({ op: 'create', path: '/q', data: null, acl: OPEN, flags: 0 })).header.err, ZkErr.OK);
    resetMax();
    const replies = await Promise.all(Array.from({ length: 32 }, () => c.send({ op: 'create2', path: '/q/s-', data: null, acl: OPEN, flags: 2 })));
    replies.forEach((r, i) => {
      assert.equal(r.header.err, ZkErr.OK, `create ${i}`);
      assert.equal((r.body as { path: string }).path, `/q/s-${String(i).padStart(10, '0')}`, `create ${i} is numbered in request order`);
    });
    // Each create behind the one before it, planned on the parent it leaves: with nothing else
    // writing, one at a time would be 1 in flight.
    assert.ok(maxInFlight() >= 8, `the burst was committed ${maxInFlight()} at a time at most`);
  } finally {
    await c.close();
    await h.stop();
    await mem.close();
  }
});
