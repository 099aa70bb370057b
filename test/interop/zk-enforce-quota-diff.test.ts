/**
 * Enforced quotas (`coracle --zk-enforce-quota`, ZooKeeper's `zookeeper.enforceQuota=true`)
 * against a real ZooKeeper 3.8 run with the same switch:
 * - a zkCli.sh session sets hard and soft count and byte quotas (`setquota -N/-B/-n`), creates and
 *   sets data past them, deletes, changes and removes the quota: transcripts equal line for line
 *   (QUOTAEXCEEDED comes before BADVERSION; soft limits never refuse);
 * - a multi is checked op by op against the committed tree, as ZooKeeper does: two creates that
 *   each fit the last free slot both pass, the next create fails; a multi with a setData past
 *   the byte limit fails as a whole with QUOTAEXCEEDED at that op (the header's err as
 *   ZooKeeper sets it).
 * Without the switch both servers accept everything (the last part).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { startCoracle } from '../support/coracle-server';
import { zkCli } from '../support/zk-cli';
import { cliTranscripts, sameTranscript } from '../support/zk-cli-transcript';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

const SCRIPT = [
  'create /q',
  'create /q/a',
  'setquota -N 3 /q',
  'listquota /q',
  'create /q/b',
  'create /q/c',
  'create /q/b/x',
  'set /q/a 123456789',
  'delete /q/b',
  'create /q/d',
  'setquota -B 10 /q',
  'delquota -N /q',
  'setquota -B 10 /q',
  'listquota /q',
  'set /q/a 12345',
  'set /q/a 1234567890',
  'set -v 99 /q/a 1234567890123',
  'set /q/a 12',
  'create /q/e 123456789',
  'create /q/e 1234567',
  'create -s /q/s 1',
  'get /zookeeper/quota/q/zookeeper_stats',
  'create /other 12345678901234567890',
  'setquota -n 1 /other',
  'create /other/x',
  'create /other/y',
  'delquota /q',
  'create /q/f 1234567890123456789',
  'ls /q',
  // For the multi part: a count limit with one free slot, a byte limit with 4 bytes free.
  'create /m',
  'setquota -N 2 /m',
  'create /b 123456',
  'setquota -B 10 /b',
];

/** The error codes of each multi op, then the error of a create after them. */
async function multiPart(port: number): Promise<{ two: number[]; after: number; bytes: number[]; bytesErr: number }> {
  const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 20_000 });
  try {
    const create = (path: string, data: Buffer | null = null) => ({ op: 'create' as const, path, data, acl: OPEN, flags: 0 });
    const codes = (r: Awaited<ReturnType<ZkWireClient['send']>>): number[] =>
      r.body?.op === 'multi' ? r.body.results.map((x) => ('err' in x ? x.err : 0)) : [r.header.err];
    const two = await c.send({ op: 'multi', ops: [create('/m/a'), create('/m/b')] });
    const after = await c.send(create('/m/c'));
    const bytes = await c.send({ op: 'multi', ops: [create('/b/k', Buffer.from('12')), { op: 'setData', path: '/b', data: Buffer.from('12345678901'), version: -1 }] });
    return { two: codes(two), after: after.header.err, bytes: codes(bytes), bytesErr: bytes.header.err };
  } finally {
    await c.close();
  }
}

test('enforced quotas: zkCli session and multis, ZooKeeper 3.8 (zookeeper.enforceQuota) and coracle --zk-enforce-quota answer the same', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper', 'zkCli');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ jvmArgs: ['-Dzookeeper.enforceQuota=true'] });
  try {
    const coracle = await startCoracle(['--zk-enforce-quota']);
    try {
      const { want, got, raw } = await cliTranscripts(zk.connectString, `127.0.0.1:${coracle.zkPort}`, SCRIPT);
      // ZooKeeper did enforce (else this test compares nothing about quotas).
      assert.ok(want.lines.includes('Quota has exceeded : /q/c'), raw);
      sameTranscript(got, want);

      const [zkMulti, coMulti] = await Promise.all([multiPart(zk.port), multiPart(coracle.zkPort)]);
      assert.deepEqual(zkMulti.two, [0, 0], 'ZooKeeper checks each op of a multi against the committed tree');
      assert.equal(zkMulti.after, ZkErr.QUOTAEXCEEDED);
      assert.deepEqual(zkMulti.bytes, [0, ZkErr.QUOTAEXCEEDED], 'the multi fails at its setData (ok before it, as ZooKeeper reports)');
      assert.deepEqual(coMulti, zkMulti);
    } finally {
      await coracle.stop();
    }
  } finally {
    await zk.stop();
  }
});

test('without --zk-enforce-quota a hard quota refuses nothing (ZooKeeper 3.8 default)', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('zkCli');
  if (skip) return t.skip(skip);
  const coracle = await startCoracle();
  try {
    const r = await zkCli(`127.0.0.1:${coracle.zkPort}`, ['create /q', 'setquota -N 1 /q', 'create /q/a', 'create /q/b', 'ls /q'], { mergeStderr: true });
    assert.match(r.stdout, /Created \/q\/a\nCreated \/q\/b\n\[a, b\]/);
  } finally {
    await coracle.stop();
  }
});
