/**
 * Raft snapshots and log compaction with real processes (issue 4: `--snapshot-count`, catching up
 * a lagging or new member by snapshot). A 3-member cluster with a small snapshot count and
 * catch-up window, so a few thousand writes compact the log well past what a stopped member has:
 *
 * (a) a follower killed during the writes comes back and catches up by snapshot: the leader
 *     reports a snapshot sent, the follower one installed, and every key is readable on it with
 *     serializable (local) reads;
 * (b) the in-memory Raft log stays bounded: its first index advances with the applied index;
 * (c) that follower, killed again and restarted on its compacted WAL, restores the same state and
 *     keeps applying;
 * (d) a member added after compaction (`member add`, started with the printed lines) joins by
 *     snapshot and serves every key;
 * (e) a watcher on a paused follower that then jumps ahead by snapshot still gets every event
 *     once, in order (resynced from the installed store's history).
 *
 * Without snapshots (a) and (d) never converge: the entries they need are compacted away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { requirePeer } from '../support/peers';
import { pollUntil, sleep } from '../support/poll';
import { ClusterMember, CoracleCluster, parseMemberAddEnv } from '../support/cluster';
import { etcdctl } from '../support/etcdctl';
import { raftLog } from '../support/cluster-probe';

const KEYS = 2500;
const SNAPSHOT_COUNT = 200;
const CATCH_UP = 100;
/** Members must have been up this long before `member add` passes etcd's safety check. */
const HEALTH_WAIT_MS = 5500;

/** Number of keys under `prefix` served locally (serializable) by `m`, or undefined if it cannot answer. */
async function localCount(m: ClusterMember, prefix: string): Promise<number | undefined> {
  const r = await etcdctl(m.endpoint, ['get', prefix, '--prefix', '--consistency=s', '--limit=1', '-w', 'json'], { timeoutMs: 4000 });
  if (r.code !== 0) return undefined;
  const count = /"count":(\d+)/.exec(r.stdout);
  return count ? Number(count[1]) : 0;
}

/** Waits until `m` serves exactly `n` keys under `prefix` locally. */
function convergesTo(m: ClusterMember, prefix: string, n: number, timeoutMs = 60_000): Promise<number> {
  return pollUntil(`${m.name} serves ${n} keys under ${prefix}`, async () => ((await localCount(m, prefix)) === n ? n : undefined), timeoutMs, 300);
}

/** Writes `count` keys `<prefix><i>` through `endpoint`, 32 at a time. */
async function writeKeys(endpoint: string, prefix: string, count: number, parallel = 32): Promise<void> {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  try {
    for (let i = 0; i < count; i += parallel) {
      const batch = [];
      for (let k = i; k < Math.min(count, i + parallel); k++) batch.push(client.put(`${prefix}${String(k).padStart(5, '0')}`).value(`v${k}`).exec());
      await Promise.all(batch);
    }
  } finally {
    client.close();
  }
}

test('raft snapshots: lagging follower, compacted restart and a new member catch up by snapshot', { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await CoracleCluster.start({ size: 3, extraArgs: ['--snapshot-count', String(SNAPSHOT_COUNT), '--experimental-snapshot-catchup-entries', String(CATCH_UP)] });
  try {
    const leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;

    await t.test('(a) a follower stopped during the writes catches up by snapshot', async () => {
      await c.kill9(follower);
      await writeKeys(leader.endpoint, 'a/', KEYS);
      const before = await raftLog(leader);
      assert.ok(before.firstIndex > KEYS / 2, `leader's log compacted (first index ${before.firstIndex})`);
      await c.restart(follower);
      await convergesTo(follower, 'a/', KEYS);
      const sent = await raftLog(leader);
      const got = await raftLog(follower);
      assert.ok(sent.snapshotsSent >= 1, `leader sent a snapshot (${JSON.stringify(sent)})`);
      assert.ok(got.snapshotsInstalled >= 1, `follower installed a snapshot (${JSON.stringify(got)})`);
      const v = await etcdctl(follower.endpoint, ['get', 'a/01234', '--consistency=s', '--print-value-only']);
      assert.equal(v.stdout.trim(), 'v1234');
    });

    await t.test('(b) the in-memory raft log stays bounded', async () => {
      await writeKeys(leader.endpoint, 'b/', 1000);
      for (const m of c.members) {
        const log = await pollUntil(`${m.name} compacts`, async () => {
          const l = await raftLog(m);
          return l.lastIndex - l.firstIndex <= SNAPSHOT_COUNT + CATCH_UP + 200 ? l : undefined;
        }, 20_000, 300);
        assert.ok(log.firstIndex > KEYS, `${m.name}: first index ${log.firstIndex} advanced`);
      }
    });

    await t.test('(c) a restarted member with a compacted WAL restores its state', async () => {
      await c.kill9(follower);
      await c.restart(follower);
      assert.equal(await localCount(follower, 'a/'), KEYS);
      assert.equal(await localCount(follower, 'b/'), 1000);
      const log = await raftLog(follower);
      assert.ok(log.firstIndex > KEYS, `restarted log starts after the snapshot (first index ${log.firstIndex})`);
      await writeKeys(follower.endpoint, 'c/', 300);
      await convergesTo(follower, 'c/', 300);
      for (const m of c.members) await convergesTo(m, 'c/', 300);
    });

    await t.test('(e) a watcher on a follower that installs a snapshot misses nothing', async () => {
      const client = new Etcd3({ hosts: `http://${follower.endpoint}` });
      const seen: number[] = [];
      const revisions: number[] = [];
      try {
        const w = await client.watch().prefix('e/').create();
        w.on('put', (kv) => {
          seen.push(Number(kv.value!.toString().slice(1)));
          revisions.push(Number(kv.mod_revision));
        });
        const before = await raftLog(follower);
        c.pause(follower);
        try {
          // One at a time: each put is an append message of its own, so the leader fills its
          // in-flight window to the paused follower (512 messages) and must later send a
          // snapshot. Concurrent puts travel batched in a few messages that the follower,
          // once resumed, would simply read from its socket.
          await writeKeys(leader.endpoint, 'e/', 1000, 1);
          // The leader compacts once LMDB has made the applied state durable (the write buffer
          // commits every 100 ms): resume only when the entries the follower needs are gone.
          await pollUntil('the leader compacted past the paused follower', async () => ((await raftLog(leader)).firstIndex > before.lastIndex + 1 ? true : undefined), 30_000, 100);
        } finally {
          c.resume(follower);
        }
        await convergesTo(follower, 'e/', 1000);
        assert.ok((await raftLog(follower)).snapshotsInstalled > before.snapshotsInstalled, 'the follower caught up by snapshot');
        await pollUntil('1000 watch events', async () => (seen.length >= 1000 ? true : undefined), 30_000, 200);
        await sleep(500);
        assert.equal(seen.length, 1000, 'no event twice');
        assert.equal(new Set(seen).size, 1000, 'every key');
        assert.ok(revisions.every((r, i) => i === 0 || r > revisions[i - 1]!), 'in revision order');
        await w.cancel();
      } finally {
        client.close();
      }
    });

    await t.test('(d) a member added after compaction joins by snapshot', async () => {
      await sleep(HEALTH_WAIT_MS);
      const m4 = await c.allocate('m4');
      const add = await pollUntil('member add', async () => {
        const r = await etcdctl(c.liveEndpoints(), ['member', 'add', 'm4', `--peer-urls=${m4.peerUrl}`], { timeoutMs: 8000 });
        return r.code === 0 ? r.stdout : undefined;
      }, 30_000, 1000);
      c.members.push(m4);
      await c.launch(m4, [], parseMemberAddEnv(add));
      await convergesTo(m4, 'a/', KEYS);
      await convergesTo(m4, 'b/', 1000);
      await convergesTo(m4, 'c/', 300);
      const log = await raftLog(m4);
      assert.ok(log.snapshotsInstalled >= 1, `new member installed a snapshot (${JSON.stringify(log)})`);
      assert.equal((await etcdctl(m4.endpoint, ['put', 'from-m4', 'x'])).code, 0);
      assert.equal((await etcdctl(leader.endpoint, ['get', 'from-m4', '--print-value-only'])).stdout.trim(), 'x');
    });
  } finally {
    await c.close();
  }
});
