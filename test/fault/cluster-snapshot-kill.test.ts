/**
 * kill -9 of a member in the middle of a Raft snapshot install (issue 4; etcd's robustness
 * failpoints `raftBeforeApplySnap` / `raftAfterApplySnap` and the functional tester's "…until
 * snapshot triggered" cases, etcd.md §6). The crash rules under test are in
 * core/server/snapshot-installer.ts and snapshot-recovery.ts.
 *
 * A 3-member cluster with a small --snapshot-count and catch-up window holds ~26 MB of values,
 * so a transfer takes a measurable time (a few hundred ms on 127.0.0.1). For each moment below,
 * a follower is killed, the others write past its log (the leader compacts beyond it), the
 * follower is restarted and so must catch up by snapshot; the test watches its data dir every
 * few ms and SIGKILLs it at the moment:
 *
 * - early and late in the transfer: the incoming file `member/snap/recv-*` holds 1 MiB, 20 MiB;
 * - received: the verified snapshot was renamed to `member/snap/<index>/` (before or while the
 *   driver makes the install's WAL marker durable);
 * - installing: 15 and 40 ms after that (swap under the write buffer, hard link, rename);
 * - installed: `member/data.mdb` was replaced by the snapshot's file.
 * The diagnostics say what the data dir showed at each kill, and whether the restart finished
 * an interrupted install.
 *
 * After each kill the member must restart (its data dir opens: no corruption), catch up, and
 * hash its history like the others at one revision; no half-received file may be left behind.
 *
 * Then the other side: the leader is frozen (SIGSTOP) in the middle of a transfer, its stream
 * left open and silent (as a host that hangs or vanishes leaves it). The two others must elect
 * a leader, and the lagging follower must take that leader's snapshot while the old one stays
 * frozen: the cluster needs it for a quorum, so until then it takes no write. (This found a
 * receiver that stayed busy with the dead stream and refused every later transfer.)
 * Throughout, a recorded load runs on the two other members; at the end every acknowledged
 * write is on every member, the history is linearizable, and a last kill -9 and restart of the
 * follower restores the same state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePeer } from '../support/peers';
import { pollUntil, sleep } from '../support/poll';
import { ClusterMember, CoracleCluster } from '../support/cluster';
import { DURABLE_PREFIX, KvLoad, missingDurable, noRetryClient } from '../support/kv-load';
import { agreedLeader, raftLog, sameHashKv, sameRevision } from '../support/cluster-probe';
import { checkLinearizable } from '../support/linearizability';

const SNAPSHOT_COUNT = 100;
const CATCH_UP = 50;
const BIG_KEYS = 400;
const BIG_VALUE_BYTES = 64 * 1024;
/** Writes made while the follower is down: well past a snapshot and the catch-up window. */
const FILL = 3 * SNAPSHOT_COUNT;
const MIB = 1024 * 1024;
const WATCH_POLL_MS = 2;
const WATCH_BOUND_MS = 60_000;
const CONVERGE_BOUND_MS = 60_000;
/**
 * With the leader frozen, the other two elect a leader and the lagging one must take its
 * snapshot from it: an election, a stalled transfer given up, and a transfer, on a noisy machine.
 */
const FROZEN_BOUND_MS = 45_000;

/** What the follower's data dir shows at one poll. */
interface DirView {
  /** Bytes of the file being received, if a transfer is in progress. */
  recvBytes?: number;
  /** A received snapshot directory `snap/<index>/` exists. */
  received: boolean;
  /** Inode of `member/data.mdb` (0 if missing). */
  liveIno: number;
}

/** The entries of the member's `snap/` directory (none if it does not exist). */
function snapEntries(m: ClusterMember): string[] {
  try {
    return fs.readdirSync(path.join(m.dataDir, 'member', 'snap'));
  } catch {
    return [];
  }
}

/**
 * What the data dir of `m` shows, ignoring the `snap/` entries in `stale`: what a killed member
 * left there is only removed by its restart, and must not pass for a new transfer.
 */
function dirView(m: ClusterMember, stale: ReadonlySet<string>): DirView {
  const member = path.join(m.dataDir, 'member');
  const view: DirView = { received: false, liveIno: 0 };
  try {
    view.liveIno = fs.statSync(path.join(member, 'data.mdb')).ino;
  } catch {
    // not there (yet)
  }
  for (const n of snapEntries(m)) {
    if (stale.has(n)) continue;
    if (/^[0-9a-f]{16}$/.test(n)) view.received = true;
    if (n.startsWith('recv-')) {
      try {
        view.recvBytes = fs.statSync(path.join(member, 'snap', n, 'data.mdb')).size;
      } catch {
        view.recvBytes = 0;
      }
    }
  }
  return view;
}

/** A moment to kill at: `fires` sees each poll (and the inode the install will replace). */
interface Moment {
  name: string;
  fires(v: DirView, state: { sawReceived: boolean; inoAtReceive: number }): boolean;
  delayMs?: number;
}

/**
 * A transfer seen with at least `bytes` on disk (or already renamed, if the polls missed the
 * window: the diagnostic then says so).
 */
const received = (bytes: number) => (v: DirView): boolean => (v.recvBytes ?? 0) >= bytes || v.received;

const MOMENTS: Moment[] = [
  { name: 'early in the transfer (1 MiB)', fires: received(1 * MIB) },
  { name: 'late in the transfer (20 MiB)', fires: received(20 * MIB) },
  { name: 'received', fires: (v) => v.received },
  { name: 'installing (+15 ms)', fires: (v) => v.received, delayMs: 15 },
  { name: 'installing (+40 ms)', fires: (v) => v.received, delayMs: 40 },
  { name: 'installed', fires: (v, s) => s.sawReceived && v.liveIno !== 0 && v.liveIno !== s.inoAtReceive },
];

/** Puts `count` keys under `prefix` through `m`, 8 at a time; every one must be acknowledged. */
async function writeKeys(m: ClusterMember, prefix: string, count: number, value: Buffer | string, acked: Map<string, string>): Promise<void> {
  const client = noRetryClient(m.endpoint, 15_000);
  try {
    for (let i = 0; i < count; i += 8) {
      await Promise.all(Array.from({ length: Math.min(8, count - i) }, async (_, k) => {
        const key = `${prefix}${i + k}`;
        await client.put(key).value(value).exec();
        if (typeof value === 'string') acked.set(key, value);
      }));
    }
  } finally {
    client.close();
  }
}

/** A restart of the follower caught at a moment of its snapshot catch-up. */
interface CaughtRestart {
  /** Settles when the launch does: 'healthy', or why not (the member may have been killed). */
  launched: Promise<string>;
  /** What the data dir shows now, and since when the restart runs (for the diagnostics). */
  describe(): string;
}

/**
 * Restarts `f` and resolves as soon as `moment` fires (plus its delay), leaving the member
 * running. Fails if no snapshot transfer is seen within the bound.
 */
async function restartUntil(c: CoracleCluster, f: ClusterMember, moment: Moment): Promise<CaughtRestart> {
  const stale = new Set(snapEntries(f));
  const launched = c.restart(f).then(() => 'healthy', (err: Error) => `launch failed: ${err.message.split('\n')[0]}`);
  const state = { sawReceived: false, inoAtReceive: 0 };
  const t0 = performance.now();
  let firedAt: DirView | undefined;
  for (let i = 0; i < WATCH_BOUND_MS / WATCH_POLL_MS && performance.now() - t0 < WATCH_BOUND_MS; i++) {
    if (f.process?.exited) throw new Error(`${f.name} exited while catching up: ${f.process.tail(20)}`);
    const v = dirView(f, stale);
    if (v.received && !state.sawReceived) {
      state.sawReceived = true;
      state.inoAtReceive = v.liveIno;
    }
    if (moment.fires(v, state)) {
      firedAt = v;
      break;
    }
    await sleep(WATCH_POLL_MS);
  }
  if (!firedAt) throw new Error(`no snapshot transfer to ${f.name} seen within ${WATCH_BOUND_MS} ms (launch: ${await Promise.race([launched, sleep(0).then(() => 'pending')])})`);
  if (moment.delayMs) await sleep(moment.delayMs);
  return {
    launched,
    describe: () => {
      const at = dirView(f, stale);
      const phase = at.recvBytes !== undefined && !at.received ? `receiving (${at.recvBytes} bytes on disk)` : !at.received ? 'before any transfer' : at.liveIno !== state.inoAtReceive ? 'data.mdb replaced' : 'received, data.mdb not yet replaced';
      return `${Math.round(performance.now() - t0)} ms after the restart, ${phase}`;
    },
  };
}

/** How long a transfer that started after the recovery may take to finish and clean up. */
const LEFTOVER_BOUND_MS = 20_000;

/** Half-received snapshots (`snap/recv-*`) and a staged database (`data.mdb.new`) of `f`. */
function stagedFiles(f: ClusterMember): string[] {
  const files: string[] = fs.readdirSync(path.join(f.dataDir, 'member')).filter((n) => n === 'data.mdb.new');
  const snapDir = path.join(f.dataDir, 'member', 'snap');
  if (fs.existsSync(snapDir)) files.push(...fs.readdirSync(snapDir).filter((n) => n.startsWith('recv-')));
  return files;
}

/** Stops `f` and writes past its log until the leader compacted beyond it: it can only catch up by snapshot. */
async function fallBehind(c: CoracleCluster, f: ClusterMember, round: number, acked: Map<string, string>): Promise<ClusterMember> {
  await c.kill9(f);
  const lead = await c.leader();
  const behind = (await raftLog(lead)).lastIndex;
  await writeKeys(lead, `${DURABLE_PREFIX}fill/${round}/`, FILL, `f${round}`, acked);
  // The leader compacts once its applied state is durable in LMDB: wait until the entries the
  // stopped follower needs are gone, so that only a snapshot can help it.
  await pollUntil('the leader compacted past the stopped follower', async () => ((await raftLog(lead)).firstIndex > behind + 1 ? true : undefined), 30_000, 100);
  return lead;
}

test('kill -9 during a raft snapshot transfer and install: the member restarts, catches up, loses nothing', { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await CoracleCluster.start({ size: 3, extraArgs: ['--snapshot-count', String(SNAPSHOT_COUNT), '--experimental-snapshot-catchup-entries', String(CATCH_UP), '--log-level', 'info'] });
  let load: KvLoad | undefined;
  try {
    const leader = await c.leader();
    const f = c.members.find((m) => m !== leader)!;
    const healthy = c.members.filter((m) => m !== f);
    const acked = new Map<string, string>();
    const t0 = performance.now();
    await writeKeys(leader, 'big/', BIG_KEYS, Buffer.alloc(BIG_VALUE_BYTES, 'x'), acked);
    t.diagnostic(`${BIG_KEYS} values of ${BIG_VALUE_BYTES} bytes written in ${Math.round(performance.now() - t0)} ms`);
    load = KvLoad.start({ endpoints: healthy.map((m) => m.endpoint), workers: 4, thinkMs: 20 });

    for (const [round, moment] of MOMENTS.entries()) {
      await t.test(`kill -9 ${moment.name}`, async () => {
        const lead = await fallBehind(c, f, round, acked);
        const caught = await restartUntil(c, f, moment);
        const what = caught.describe();
        f.process!.signal('SIGKILL');
        await f.process!.waitForExit(5000);
        await caught.launched;
        const atKill = stagedFiles(f);
        t.diagnostic(`${moment.name}: killed ${what}${atKill.length ? ` (left: ${atKill.join(', ')})` : ''}`);
        await c.restart(f);
        const recovered = f.process!.tail(2000).includes('interrupted by a restart');
        const h = await sameHashKv(c.members, lead, CONVERGE_BOUND_MS);
        t.diagnostic(`${moment.name}: ${recovered ? 'the restart finished the interrupted install; ' : ''}same HashKV at revision ${h.revision}`);
        // The files the killed process left must be gone. The load goes on and the leader keeps
        // compacting, so a new transfer may be under way now with files of its own: those must go
        // when it completes (bounded wait), a leftover never does.
        const now = stagedFiles(f);
        assert.deepEqual(now.filter((n) => atKill.includes(n) && n !== 'data.mdb.new'), [], 'no half-received file of the killed process left behind');
        if (now.length > 0) {
          t.diagnostic(`${moment.name}: ${now.join(', ')} present after convergence; waiting for the transfer in progress`);
          await pollUntil('no half-received or staged file left behind', async () => (stagedFiles(f).length === 0 ? true : undefined), LEFTOVER_BOUND_MS, 100)
            .catch(() => assert.deepEqual(stagedFiles(f), [], `half-received or staged files still there ${LEFTOVER_BOUND_MS} ms after convergence`));
        }
      });
    }

    await t.test('the leader frozen (SIGSTOP) mid-transfer: a new leader brings the follower up to date', async () => {
      const lead = await fallBehind(c, f, MOMENTS.length, acked);
      const caught = await restartUntil(c, f, { name: 'mid-transfer', fires: received(4 * MIB) });
      t.diagnostic(`froze leader ${lead.name} ${caught.describe()}`);
      const t0 = performance.now();
      c.pause(lead);
      try {
        const rest = c.members.filter((m) => m !== lead);
        const elected = await agreedLeader(rest, FROZEN_BOUND_MS);
        t.diagnostic(`${elected.leader.name} elected ${Math.round(performance.now() - t0)} ms after the freeze`);
        // A write needs the lagging follower (two of three members are left), so it can
        // only be acknowledged once that follower took a snapshot from the new leader.
        const key = `${DURABLE_PREFIX}frozen`;
        await pollUntil(`a write through ${elected.leader.name} while ${lead.name} is frozen`, async () => {
          const client = noRetryClient(elected.leader.endpoint, 3000);
          try {
            await client.put(key).value('after').exec();
            acked.set(key, 'after');
            return true;
          } catch {
            return undefined;
          } finally {
            client.close();
          }
        }, FROZEN_BOUND_MS, 500);
        const client = noRetryClient(f.endpoint, 3000);
        try {
          assert.equal(await client.get(key).string(), 'after', `${f.name} serves the write`);
        } finally {
          client.close();
        }
        t.diagnostic(`${f.name} caught up from ${elected.leader.name} ${Math.round(performance.now() - t0)} ms after the freeze`);
      } finally {
        c.resume(lead);
      }
      assert.equal(await caught.launched, 'healthy');
      await sameHashKv(c.members, f, CONVERGE_BOUND_MS);
    });

    await t.test('every acknowledged write on every member, linearizable history, restart restores', async () => {
      await load!.stop();
      await load!.finalReads(c.members.map((m) => m.endpoint));
      for (const [k, v] of load!.durable) acked.set(k, v);
      const durable = new Map([...acked].filter(([k]) => k.startsWith(DURABLE_PREFIX)));
      const revision = await sameRevision(c.members, CONVERGE_BOUND_MS);
      for (const m of c.members) {
        const missing = await missingDurable(m.endpoint, durable);
        assert.deepEqual(missing.slice(0, 5), [], `${m.name}: ${missing.length} of ${durable.size} acknowledged writes missing`);
      }
      const big = noRetryClient(f.endpoint, 15_000);
      try {
        assert.equal(await big.getAll().prefix('big/').count(), BIG_KEYS, `${f.name} holds every big value`);
      } finally {
        big.close();
      }
      const ops = load!.history;
      t.diagnostic(`${ops.length} operations, ${ops.filter((o) => o.kind === 'put' && o.ret !== undefined).length} acknowledged puts; revision ${revision}`);
      assert.deepEqual(checkLinearizable(ops, { budgetMs: 60_000 }), { ok: true });
      await c.kill9(f);
      await c.restart(f);
      const h = await sameHashKv(c.members, f, CONVERGE_BOUND_MS);
      assert.equal(h.revision, revision, `${f.name} restores the revision it had`);
    });
  } finally {
    if (load) await load.stop().catch(() => undefined);
    await c.close();
  }
});
