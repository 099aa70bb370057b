/**
 * The Ready loop's ordering promises (raft-driver.ts, raft-persistence.ts): nobody is answered,
 * and nothing becomes readable, before the WAL append holding it is durable; several Readies are
 * in flight at once (the pipeline) and complete in queue order. Runs a single-voter RawNode over
 * a real WAL whose durable writes are held until the test releases them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { MemBackend } from '../../../../core/storage/mem-backend';
import { RaftDriver, MAX_READIES_IN_FLIGHT } from '../../../../core/server/raft-driver';
import { RaftPersistence } from '../../../../core/server/raft-persistence';
import { createTempDir } from '../../../support/temp-dir';
import { RawNode } from '../../../../core/raft/raw-node';
import { MemoryRaftStorage } from '../../../../core/raft/memory-raft-storage';
import { KvStore } from '../../../../core/mvcc/kv-store';
import { Lessor } from '../../../../core/lease/lessor';
import { AlarmStore } from '../../../../core/apply/alarm-store';
import { Applier, ApplyOutcome } from '../../../../core/apply/applier';
import { ManualClock } from '../../../../core/util/clock';
import { SeededRand } from '../../../../core/util/rand';
import { nullLogger } from '../../../../core/util/logger';
import { EntryType, Message, MessageType } from '../../../../core/raft/types';

/** WAL syncs that complete only when the test says so (a slow disk). */
class HeldSyncs {
  private held: Array<() => void> = [];
  readonly io = {
    writeDurable: (fd: number, chunks: Buffer[], position: number): Promise<void> =>
      new Promise<void>((resolve) => this.held.push(() => resolve(void fs.writevSync(fd, chunks, position)))),
    fdatasyncSync: (): void => {},
  };
  /** Syncs started and not yet released. */
  get pending(): number {
    return this.held.length;
  }
  /** Completes the oldest sync. */
  releaseOne(): void {
    const next = this.held.shift();
    assert.ok(next, 'no held sync');
    next();
  }
}

const ID = 1n;

async function setup(id = ID, voters = [ID], sent: Message[] = []) {
  const syncs = new HeldSyncs();
  const { persistence } = await RaftPersistence.open({ dir: createTempDir('raft-driver-'), state: new MemBackend(), walIo: syncs.io, segmentBytes: 1 << 20, logger: nullLogger });
  const backend = persistence.backend;
  const kv = new KvStore(backend);
  kv.load();
  const clock = new ManualClock();
  const lessor = new Lessor(clock, 5);
  const storage = MemoryRaftStorage.withPeers(voters);
  const node = new RawNode({
    id, electionTick: 10, heartbeatTick: 1, storage, applied: 0,
    maxSizePerMsg: 1 << 20, maxUncommittedEntriesSize: 1 << 30, maxInflightMsgs: 256,
    checkQuorum: false, preVote: false, readOnlyOption: 'safe', rand: new SeededRand(7), logger: nullLogger,
  });
  const driver = new RaftDriver(node, storage, persistence, new Applier(kv, lessor, new AlarmStore()), kv, {
    onDurable: () => {},
    onCompaction: async () => {},
    onLeaderChange: () => {},
    send: (ms) => sent.push(...ms),
  }, nullLogger, 0);
  return { syncs, kv, node, driver };
}

/** Lets setImmediate/promise callbacks run. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

let seq = 1n;
function put(driver: RaftDriver, key: string): Promise<ApplyOutcome> {
  return driver.propose({
    header: { id: seq++, username: '', authRevision: 0 },
    body: { type: 'put', put: { key: Buffer.from(key), value: Buffer.from('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } },
  });
}

/** Elects the single voter, releasing writes until it leads and its empty entry is applied. */
async function elect(s: Awaited<ReturnType<typeof setup>>): Promise<void> {
  s.node.campaign();
  s.driver.tick();
  for (let i = 0; i < 20 && (s.driver.leader !== ID || s.syncs.pending > 0); i++) {
    await settle();
    while (s.syncs.pending > 0) s.syncs.releaseOne();
    await settle();
  }
  assert.equal(s.driver.leader, ID);
}

test('a proposal is answered, and its revision readable, only once its transaction is durable', async () => {
  const s = await setup();
  await elect(s);
  const before = s.kv.readRevision;
  let answered = false;
  const p = put(s.driver, 'a').then((o) => {
    answered = true;
    return o;
  });
  await settle();
  assert.equal(s.syncs.pending, 1, 'the put is in a queued transaction');
  assert.equal(answered, false, 'answered before durable');
  assert.equal(s.kv.readRevision, before, 'readable before durable');
  s.syncs.releaseOne();
  const out = await p;
  assert.equal(out.revision, before + 1);
  assert.equal(s.kv.readRevision, before + 1);
  s.driver.stop();
});

test('Readies are pipelined up to the bound and complete in queue order', async () => {
  const s = await setup();
  await elect(s);
  const order: string[] = [];
  const puts: Array<Promise<unknown>> = [];
  // One proposal per turn, each while the earlier transactions are still held.
  for (let i = 0; i < MAX_READIES_IN_FLIGHT + 2; i++) {
    const k = `k${i}`;
    puts.push(put(s.driver, k).then(() => order.push(k)));
    await settle();
  }
  assert.equal(s.driver.readiesInFlight, MAX_READIES_IN_FLIGHT, 'the pipeline holds exactly its bound');
  assert.equal(s.syncs.pending, 1, 'one WAL sync at a time: the later Readies wait to share the next one');
  assert.deepEqual(order, []);
  // A read issued now must wait for everything committed before it.
  let readDone = false;
  const read = s.driver.readIndex().then(() => {
    readDone = true;
  });
  for (let i = 0; i < 20 && (s.syncs.pending > 0 || order.length < puts.length); i++) {
    if (s.syncs.pending > 0) s.syncs.releaseOne();
    await settle();
    if (order.length < puts.length) assert.equal(readDone, false, 'read released before earlier writes were durable');
  }
  await Promise.all(puts);
  await read;
  assert.deepEqual(order, puts.map((_, i) => `k${i}`), 'answers in commit order');
  s.driver.stop();
});

test('a linearizable read on an idle member syncs nothing', async () => {
  const s = await setup();
  await elect(s);
  let done = false;
  const read = s.driver.readIndex().then(() => {
    done = true;
  });
  for (let i = 0; i < 20 && !done; i++) await settle();
  assert.equal(s.syncs.pending, 0, 'the read started a WAL sync');
  assert.equal(done, true, 'the read waits for nothing');
  await read;
  s.driver.stop();
});

test("a follower acknowledges an append only once the WAL holds it and every earlier append", async () => {
  const sent: Message[] = [];
  const s = await setup(2n, [1n, 2n], sent);
  const app = (): Message => ({
    type: MessageType.MsgApp, to: 2n, from: 1n, term: 1, logTerm: 0, index: 0, commit: 0, vote: 0n,
    entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) }],
    reject: false, rejectHint: 0, context: new Uint8Array(0), responses: [],
  });
  const acks = (): Message[] => sent.filter((m) => m.type === MessageType.MsgAppResp);
  s.driver.step(app());
  await settle();
  assert.equal(s.syncs.pending, 1, 'the appended entry waits in a WAL sync');
  assert.deepEqual(acks(), [], 'acknowledged before the entry was durable');
  // The same append again: nothing new to write, but its ack covers the held entry too.
  s.driver.step(app());
  await settle();
  assert.deepEqual(acks(), [], 'an ack of an entry still being synced went out');
  s.syncs.releaseOne();
  await settle();
  assert.equal(acks().length, 2, 'both acks go once the append is durable');
  assert.ok(acks().every((m) => m.index === 1 && !m.reject && m.to === 1n));
  s.driver.stop();
});

test('the proposer applies its own request object, not a decode of its entry (own-proposal.ts)', async () => {
  const s = await setup();
  await elect(s);
  const req = {
    header: { id: seq++, username: '', authRevision: 0 },
    body: { type: 'put' as const, put: { key: Buffer.from('own'), value: Buffer.from('proposed'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } },
  };
  const p = s.driver.propose(req);
  await settle();
  // Changed after encoding: a decode of the entry would still apply 'proposed'.
  req.body.put.value = Buffer.from('mutated');
  while (s.syncs.pending > 0) s.syncs.releaseOne();
  await p;
  const got = s.kv.range({ key: Buffer.from('own'), rangeEnd: Buffer.alloc(0), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: true, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 });
  assert.equal(got.kvs[0]?.value.toString(), 'mutated');
  s.driver.stop();
});
