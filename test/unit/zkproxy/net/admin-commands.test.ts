/**
 * The AdminServer's commands that depend on the server's place in a cluster (leader,
 * voting_view, zabstate, is_read_only), the response order ZooKeeper uses, and unknown names.
 * The rest are compared with a real ZooKeeper 3.8 in test/interop/zk-admin-diff.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvServerRole, KvStorageDirs } from '../../../../zkproxy/backend/kv-backend';
import { AdminContext, runAdminCommand } from '../../../../zkproxy/net/admin-commands';
import { ENABLED_WORDS, FourLetterSource } from '../../../../zkproxy/net/four-letter-words';
import { ServerStats } from '../../../../zkproxy/net/server-stats';
import { TraceMask } from '../../../../zkproxy/trace-mask';

function context(role: KvServerRole, storage?: KvStorageDirs): AdminContext {
  const src: FourLetterSource = {
    allowedWords: ENABLED_WORDS, traceMask: new TraceMask(), stats: new ServerStats(), connections: () => [], zxid: () => 7, nodeCount: () => 5,
    watchSummary: () => ({ watches: 0, paths: 0, connections: 0 }), watchCount: () => 0, ephemerals: () => 0, dataSize: () => 44,
    writeConflicts: () => 0, role: () => role, resetConnectionStats: () => {}, dataWatchesBySession: () => new Map(),
    sessionExpiries: () => [], ephemeralsBySession: () => new Map(), storage: () => storage,
    config: () => ({ clientPort: 2181, secureClientPort: undefined, tickTime: 2000, minSessionTimeout: 4000, maxSessionTimeout: 40000, maxClientCnxns: 60 }),
  };
  return { src, admin: { host: '127.0.0.1', port: 8080, commandUrl: '/commands' } };
}

const run = (name: string, role: KvServerRole, storage?: KvStorageDirs): Record<string, unknown> => runAdminCommand(name, context(role, storage));

const members = [
  { id: 1n, peerUrl: 'http://10.0.0.1:2380', voter: true },
  { id: 2n, peerUrl: 'http://10.0.0.2:2380', voter: true },
  { id: 3n, peerUrl: 'http://[::1]:2380', voter: false },
];
const base = { quorumSize: 2, learners: 2, syncedFollowers: 1, syncedNonVoting: 0, members };
const LEADER: KvServerRole = { ...base, mode: 'leader', memberId: 1n, leaderId: 1n };
const FOLLOWER: KvServerRole = { ...base, mode: 'follower', memberId: 2n, leaderId: 1n };
const LEARNER_NO_LEADER: KvServerRole = { ...base, mode: 'follower', memberId: 3n, leaderId: 0n };
const STANDALONE: KvServerRole = { mode: 'standalone', quorumSize: 1, learners: 0, syncedFollowers: 0, syncedNonVoting: 0 };

test('leader: the member that leads, by id and address; none outside a cluster', () => {
  assert.deepEqual(run('leader', LEADER), { is_leader: true, leader_id: 1n, leader_ip: '10.0.0.1', command: 'leader', error: null });
  assert.deepEqual(run('lead', FOLLOWER), { is_leader: false, leader_id: 1n, leader_ip: '10.0.0.1', command: 'leader', error: null });
  assert.deepEqual(run('leader', LEARNER_NO_LEADER), { is_leader: false, leader_id: 0n, leader_ip: '', command: 'leader', error: null });
  // ZooKeeper's order: a command's own error first, then the command.
  assert.deepEqual(Object.entries(run('leader', STANDALONE)), [['error', 'server is not initialized'], ['command', 'leader']]);
  assert.deepEqual(run('leader', { ...STANDALONE, mode: 'read-only' }).error, 'server is not initialized');
});

test('voting_view lists the voters; zabstate says whether this member votes and knows a leader', () => {
  assert.deepEqual(run('voting_view', FOLLOWER).current_config, { 1: '10.0.0.1:2380:participant', 2: '10.0.0.2:2380:participant' });
  assert.deepEqual(run('voting_view', STANDALONE).current_config, {});
  assert.deepEqual(run('zabstate', FOLLOWER), { voting: true, zabstate: 'broadcast', command: 'zabstate', error: null });
  assert.deepEqual(run('zabstate', LEARNER_NO_LEADER), { voting: false, zabstate: 'election', command: 'zabstate', error: null });
  assert.deepEqual(run('zabstate', STANDALONE), { voting: false, zabstate: '', command: 'zabstate', error: null });
});

test('is_read_only follows the mode; unknown names; the command is the primary name', () => {
  assert.equal(run('isro', { ...STANDALONE, mode: 'read-only' }).read_only, true);
  assert.equal(run('is_read_only', LEADER).read_only, false);
  assert.deepEqual(Object.entries(run('gtmkk', STANDALONE)), [['command', 'gtmkk'], ['error', 'Unknown command: gtmkk']]);
  assert.equal(run('mntr', STANDALONE).command, 'monitor');
  assert.equal(run('config', STANDALONE).command, 'configuration');
  assert.equal(run('srvr', STANDALONE).node_count, 5);
});

test('dirs and configuration name the data and log directories where the data is kept here; over etcd there are none', () => {
  const here = { dataDir: '/var/lib/coracle/member', dataBytes: 4096, logDir: '/var/lib/coracle/member/wal', logBytes: 65536 };
  assert.deepEqual(run('dirs', STANDALONE, here), { datadir_size: 4096, logdir_size: 65536, command: 'dirs', error: null });
  const conf = run('conf', STANDALONE, here);
  assert.deepEqual([conf.data_dir, conf.data_log_dir], [here.dataDir, here.logDir]);
  assert.deepEqual(run('dirs', STANDALONE), { error: 'no data directory here: zk-proxy keeps the data in its etcd cluster', command: 'dirs' });
});

test('set_trace_mask takes traceMask as a Java long; get_trace_mask reads what it set', () => {
  const ctx = context(STANDALONE);
  const set = (traceMask?: string): Record<string, unknown> => runAdminCommand('stmk', ctx, new Map(traceMask === undefined ? [] : [['traceMask', traceMask]]));
  assert.deepEqual(runAdminCommand('gtmk', ctx), { tracemask: 306n, command: 'get_trace_mask', error: null });
  assert.deepEqual(Object.entries(set()), [['error', 'setTraceMask requires long traceMask argument'], ['command', 'set_trace_mask']]);
  for (const bad of ['', '0x10', '1.5', '9223372036854775808', ' 1']) {
    assert.equal(set(bad).error, `setTraceMask requires long traceMask argument, got ${bad}`, JSON.stringify(bad));
  }
  assert.equal(ctx.src.traceMask.value, 306n, 'refused values change nothing');
  assert.deepEqual(set('+8'), { tracemask: 8n, command: 'set_trace_mask', error: null });
  assert.deepEqual(set('-9223372036854775808').tracemask, -(2n ** 63n));
  assert.equal(runAdminCommand('get_trace_mask', ctx).tracemask, -(2n ** 63n));
});

test('system_properties: the process facts under Java\'s names, sorted, agreeing with environment', () => {
  const props = runAdminCommand('sysp', context(STANDALONE));
  const keys = Object.keys(props).filter((k) => k !== 'command' && k !== 'error');
  assert.deepEqual(keys, [...keys].sort());
  assert.equal(props['user.dir'], process.cwd());
  assert.equal(props['file.separator'], '/');
  const env = runAdminCommand('environment', context(STANDALONE));
  for (const k of ['os.name', 'os.arch', 'java.version']) assert.equal(props[k], env[k], k);
  assert.equal(props.command, 'system_properties');
});
