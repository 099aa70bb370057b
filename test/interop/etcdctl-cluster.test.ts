/**
 * Operators' cluster flows with etcdctl 3.4 against a 3-member coracle cluster on 127.0.0.1
 * (issue 4): member list; a put on one member read linearizably on another; kill -9 of the
 * leader, writes succeed again on the rest, the killed member restarts on its data and catches
 * up; a wiped data dir restarted with the old name is refused; member add + start with the
 * printed lines joins; member remove stops the member; a whole-cluster migration (add A, B, C;
 * remove a, b, c) under a small write load loses no acknowledged write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { requirePeer } from '../support/peers';
import { etcdctl } from '../support/etcdctl';
import { pollUntil, sleep } from '../support/poll';
import { ClusterMember, CoracleCluster, parseMemberAddEnv } from '../support/cluster';

/** etcd's HealthInterval: links must be up this long before a voter add/remove is allowed. */
const HEALTH_WAIT_MS = 5500;

/** `member list` rows: id, status, name, peer URLs, client URLs, learner. */
async function memberList(endpoints: string[]): Promise<string[][]> {
  const r = await etcdctl(endpoints, ['member', 'list']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(', '));
}

/** Runs an etcdctl command until it succeeds (bounded): the cluster may be electing. */
async function until(endpoints: () => string[], args: string[], what: string, timeoutMs = 20_000, doneIf?: RegExp): Promise<string> {
  let tried = false;
  return pollUntil(what, async () => {
    const r = await etcdctl(endpoints(), args, { timeoutMs: 5000 });
    // A retried change whose first attempt went through (its answer lost) reports it is done.
    if (r.code !== 0 && tried && doneIf?.test(r.stderr)) return r.stderr;
    tried = true;
    if (r.code !== 0) throw new Error(r.stderr.trim());
    return r.stdout;
  }, timeoutMs, 250);
}

/** `member add`, retried while the cluster says its links are too fresh (etcd's 5 s health rule). */
async function memberAdd(c: CoracleCluster, m: ClusterMember): Promise<NodeJS.ProcessEnv> {
  const out = await until(() => c.liveEndpoints(), ['member', 'add', m.name, `--peer-urls=${m.peerUrl}`], `member add ${m.name}`, 30_000);
  const env = parseMemberAddEnv(out);
  assert.equal(env.ETCD_NAME, m.name);
  assert.equal(env.ETCD_INITIAL_CLUSTER_STATE, 'existing');
  assert.equal(env.ETCD_INITIAL_ADVERTISE_PEER_URLS, m.peerUrl);
  assert.match(env.ETCD_INITIAL_CLUSTER!, new RegExp(`${m.name}=${m.peerUrl.replace(/[.]/g, '\\.')}`));
  return env;
}

/** Polls `member list` until `n` members are listed with a name and client URLs. */
async function allPublished(endpoint: string, n: number): Promise<string[][]> {
  return pollUntil(`${n} published members`, async () => {
    const rows = await memberList([endpoint]);
    return rows.length === n && rows.every((r) => r[2] !== '' && r[4] !== '') ? rows : undefined;
  }, 20_000, 200);
}

/** The hex id of the member called `name`. */
async function idOf(c: CoracleCluster, name: string): Promise<string> {
  const row = (await memberList(c.liveEndpoints())).find((r) => r[2] === name);
  assert.ok(row, `member ${name} listed`);
  return row[0]!;
}

test('a 3-member coracle cluster through etcdctl 3.4', { timeout: 280_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await CoracleCluster.start({ size: 3 });
  try {
    const [a, b, d] = c.members as [ClusterMember, ClusterMember, ClusterMember];

    await t.test('member list shows three started members with their URLs', async () => {
      // A member publishes its name and client URLs through the log once it knows a leader.
      const rows = await allPublished(a.endpoint, 3);
      assert.equal(rows.length, 3);
      for (const m of c.members) {
        const row = rows.find((r) => r[2] === m.name);
        assert.ok(row, `${m.name} listed`);
        assert.deepEqual(row.slice(1), ['started', m.name, m.peerUrl, `http://${m.endpoint}`, 'false']);
      }
    });

    await t.test('a put on one member is read linearizably on another', async () => {
      assert.equal((await etcdctl(a.endpoint, ['put', 'k1', 'v1'])).code, 0);
      assert.equal((await etcdctl(b.endpoint, ['get', 'k1', '--print-value-only'])).stdout.trim(), 'v1');
      assert.equal((await etcdctl(d.endpoint, ['put', 'k2', 'v2'])).code, 0);
      assert.equal((await etcdctl(a.endpoint, ['get', 'k2', '--print-value-only'])).stdout.trim(), 'v2');
    });

    await t.test('kill -9 of the leader: writes succeed on the rest; the restarted member catches up', async () => {
      const leader = await c.leader();
      await c.kill9(leader);
      const t0 = performance.now();
      await until(() => c.liveEndpoints(), ['put', 'after-kill', 'yes'], 'a write after the leader died');
      t.diagnostic(`writes succeeded again ${Math.round(performance.now() - t0)} ms after the kill`);
      await c.restart(leader);
      const v = await pollUntil('the restarted member has the write', async () => {
        const r = await etcdctl(leader.endpoint, ['get', 'after-kill', '--print-value-only', '--consistency=s']);
        return r.stdout.trim() === 'yes' ? r.stdout.trim() : undefined;
      }, 15_000, 200);
      assert.equal(v, 'yes');
    });

    await t.test('a wiped data dir restarted with the old name is refused', async () => {
      const victim = (await c.leader()) === b ? d : b;
      // The refusal relies on the cluster knowing the member as started (published), as etcd's.
      await allPublished(a.endpoint, 3);
      await c.kill9(victim);
      rmSync(victim.dataDir, { recursive: true, force: true });
      const initial = c.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
      for (const state of ['new', 'existing']) {
        const r = await c.launchExpectingFailure(victim, ['--initial-cluster', initial, '--initial-cluster-state', state]);
        assert.notEqual(r.code, 0, `exit code with --initial-cluster-state ${state}`);
        assert.match(r.output, /has already been bootstrapped/);
        rmSync(victim.dataDir, { recursive: true, force: true });
      }
      // The cluster still works with two of three.
      await until(() => c.liveEndpoints(), ['put', 'after-wipe', 'ok'], 'a write with one member down');
      // Bring the member back the supported way: remove it, add it again under a new name.
      const id = await idOf(c, victim.name);
      await until(() => c.liveEndpoints(), ['member', 'remove', id], 'member remove of the wiped member', 20_000, /member not found/);
      c.members.splice(c.members.indexOf(victim), 1);
    });

    await t.test('member add, then start with the printed lines: joins and serves', async () => {
      await sleep(HEALTH_WAIT_MS);
      const m4 = await c.allocate('m4');
      const env = await memberAdd(c, m4);
      c.members.push(m4);
      await c.launch(m4, [], env);
      assert.equal((await etcdctl(m4.endpoint, ['get', 'k1', '--print-value-only'])).stdout.trim(), 'v1');
      assert.equal((await etcdctl(m4.endpoint, ['put', 'from-m4', 'x'])).code, 0);
      assert.equal((await etcdctl(a.endpoint, ['get', 'from-m4', '--print-value-only'])).stdout.trim(), 'x');
      const rows = await allPublished(a.endpoint, 3);
      assert.deepEqual(rows.find((r) => r[2] === 'm4')?.slice(1), ['started', 'm4', m4.peerUrl, `http://${m4.endpoint}`, 'false']);
    });

    await t.test('member remove: the removed member stops, the rest serve', async () => {
      const m4 = c.members.find((m) => m.name === 'm4')!;
      const id = await idOf(c, 'm4');
      await until(() => [a.endpoint], ['member', 'remove', id], 'member remove m4', 20_000, /member not found/);
      const exit = await m4.process!.waitForExit(15_000);
      assert.equal(exit.code, 0);
      c.members.splice(c.members.indexOf(m4), 1);
      assert.equal((await memberList([a.endpoint])).length, 2);
      assert.equal((await etcdctl(c.liveEndpoints(), ['put', 'after-remove', 'y'])).code, 0);
    });

    await t.test('migrate the whole cluster to new members under a write load', async () => {
      const acked = new Map<string, string>();
      let stop = false;
      let maxGapMs = 0;
      const writer = (async () => {
        let last = performance.now();
        for (let i = 0; i < 5000 && !stop; i++) {
          const r = await etcdctl(c.liveEndpoints(), ['put', `mig/${i}`, `v${i}`], { timeoutMs: 6000 });
          if (r.code === 0) {
            acked.set(`mig/${i}`, `v${i}`);
            const now = performance.now();
            maxGapMs = Math.max(maxGapMs, now - last);
            last = now;
          }
        }
      })();
      const old = [...c.members];
      const fresh: ClusterMember[] = [];
      for (const name of ['A', 'B', 'C']) {
        await sleep(HEALTH_WAIT_MS);
        const m = await c.allocate(name);
        const env = await memberAdd(c, m);
        c.members.push(m);
        await c.launch(m, [], env);
        fresh.push(m);
      }
      for (const m of old) {
        await sleep(HEALTH_WAIT_MS);
        const id = await idOf(c, m.name);
        await until(() => fresh.map((f) => f.endpoint), ['member', 'remove', id], `member remove ${m.name}`, 30_000, /member not found/);
        await m.process!.waitForExit(15_000);
        c.members.splice(c.members.indexOf(m), 1);
      }
      await sleep(1000);
      stop = true;
      await writer;
      t.diagnostic(`${acked.size} writes acknowledged during the migration; longest gap ${Math.round(maxGapMs)} ms`);
      assert.ok(acked.size > 10, 'the load ran');
      assert.ok(maxGapMs < 15_000, `writes kept succeeding (longest gap ${Math.round(maxGapMs)} ms)`);
      const rows = await memberList(fresh.map((f) => f.endpoint));
      assert.deepEqual(rows.map((r) => r[2]).sort(), ['A', 'B', 'C']);
      const r = await etcdctl(fresh[0]!.endpoint, ['get', 'mig/', '--prefix', '-w', 'json']);
      const kvs = (JSON.parse(r.stdout) as { kvs?: Array<{ key: string; value: string }> }).kvs ?? [];
      const have = new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()]));
      for (const [k, v] of acked) assert.equal(have.get(k), v, `acknowledged ${k} survived the migration`);
      assert.equal((await etcdctl(fresh[1]!.endpoint, ['get', 'k1', '--print-value-only'])).stdout.trim(), 'v1');
    });
  } finally {
    await c.close();
  }
});
