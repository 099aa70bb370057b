/**
 * On a 3-member cluster each ZooKeeper port reports its member's role the way a ZooKeeper quorum
 * server does, so monitoring written for a ZooKeeper ensemble (zkServer.sh status reading `srvr`'s
 * "Mode:", exporters reading `mntr`) finds one leader and its followers: `Mode: leader|follower`,
 * zk_server_state, zk_quorum_size, and on the leader zk_learners and zk_synced_followers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoracleCluster, ClusterMember } from '../support/cluster';
import { pollUntil } from '../support/poll';
import { fourLetterWord } from '../support/zookeeper-peer';
import { httpGet } from '../support/coracle-server';

const word = (m: ClusterMember, w: string): Promise<string> => fourLetterWord('127.0.0.1', m.zkPort!, w);

/** One AdminServer command's JSON answer. */
async function admin(m: ClusterMember, cmd: string): Promise<Record<string, unknown>> {
  const r = await httpGet(m.zkAdminPort!, `/commands/${cmd}`);
  assert.equal(r?.status, 200, cmd);
  return JSON.parse(r!.body) as Record<string, unknown>;
}

/** The value of one `mntr` line, or undefined when the line is absent. */
function mntrValue(mntr: string, key: string): string | undefined {
  return new RegExp(`^${key}\\t(.*)$`, 'm').exec(mntr)?.[1];
}

test('each member\'s ZooKeeper port reports leader or follower, and the leader its synced followers', { timeout: 120_000 }, async () => {
  const cluster = await CoracleCluster.start({ size: 3, zk: true, zkAdmin: true });
  try {
    for (const m of cluster.members) await pollUntil('the ZooKeeper port', () => word(m, 'ruok').then((r) => (r === 'imok' ? true : undefined), () => undefined), 20_000, 100);
    const leader = await cluster.leader();
    // Followers count as synced once the leader streams the log to them.
    const mntr = await pollUntil('two synced followers', async () => {
      const out = await word(leader, 'mntr');
      return mntrValue(out, 'zk_synced_followers') === '2' ? out : undefined;
    }, 20_000, 200);
    assert.equal(mntrValue(mntr, 'zk_server_state'), 'leader');
    assert.equal(mntrValue(mntr, 'zk_quorum_size'), '3');
    assert.equal(mntrValue(mntr, 'zk_learners'), '2');
    assert.match(await word(leader, 'srvr'), /\nMode: leader\n/);
    for (const m of cluster.members.filter((x) => x !== leader)) {
      const f = await word(m, 'mntr');
      assert.equal(mntrValue(f, 'zk_server_state'), 'follower');
      assert.equal(mntrValue(f, 'zk_quorum_size'), '3');
      assert.equal(mntrValue(f, 'zk_synced_followers'), undefined, 'only the leader reports its followers');
      assert.match(await word(m, 'srvr'), /\nMode: follower\n/);
    }
    // The AdminServer's views of the quorum agree on one leader and list the three voters.
    const leaderId = (await admin(leader, 'leader')).leader_id;
    for (const m of cluster.members) {
      const lead = await admin(m, 'leader');
      assert.deepEqual([lead.is_leader, lead.leader_id, lead.leader_ip, lead.error], [m === leader, leaderId, '127.0.0.1', null], m.name);
      assert.deepEqual(await admin(m, 'zabstate'), { voting: true, zabstate: 'broadcast', command: 'zabstate', error: null });
      const view = (await admin(m, 'voting_view')).current_config as Record<string, string>;
      assert.deepEqual(Object.values(view).sort(), cluster.members.map((x) => `${new URL(x.peerUrl).host}:participant`).sort());
      assert.equal((await admin(m, 'monitor')).server_state, m === leader ? 'leader' : 'follower');
    }
  } finally {
    await cluster.close();
  }
});
