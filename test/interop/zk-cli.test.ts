/**
 * zkCli.sh from Apache ZooKeeper 3.8 against Coracle's ZooKeeper port: the commands a new user
 * types (create -e -s, get -s, set -v, ls -R, stat, delete, deleteall, setAcl/addauth,
 * whoami, getEphemerals, sync), all in one zkCli session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { zkCli } from '../support/zk-cli';
import { startHarness } from './zk-harness';

test('zkCli.sh session against Coracle', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('zkCli');
  if (skip) return t.skip(skip);
  const h = await startHarness();
  try {
    const r = await zkCli(h.connect, [
      'create /app data1',
      'create -e -s /app/eph- e',
      'create -s /app/seq- s',
      'get -s /app',
      'set -v 0 /app data2',
      'set -v 0 /app data3',
      'ls -R /app',
      'stat /app',
      'addauth digest bob:pw',
      'setAcl /app auth:bob:pw:cdrwa',
      'getAcl /app',
      'create /app/x',
      'deleteall /app',
      'ls /',
      'create /del',
      'delete /del',
      'get /del',
      'whoami',
      'sync /',
    ], { mergeStderr: true });
    const out = r.stdout;
    assert.match(out, /Created \/app\n/);
    assert.match(out, /Created \/app\/eph-0000000000/);
    assert.match(out, /Created \/app\/seq-0000000001/);
    assert.match(out, /data1\ncZxid = 0x[0-9a-f]+\nctime = .*\nmZxid/);
    assert.match(out, /cversion = 2\ndataVersion = 0\naclVersion = 0\nephemeralOwner = 0x0\ndataLength = 5\nnumChildren = 2/);
    assert.match(out, /version No is not valid : \/app/, 'the second set -v 0 is a BADVERSION');
    assert.match(out, /\/app\n\/app\/eph-0000000000\n\/app\/seq-0000000001/);
    assert.match(out, /dataVersion = 1/);
    assert.match(out, /'digest,'bob:ikIaKsbtGweaHnb\/jKn7OHqbunM=\n: cdrwa/);
    assert.match(out, /\[zookeeper\]/, 'deleteall removed /app');
    assert.match(out, /Node does not exist: \/del/);
    assert.match(out, /digest: bob/);
    assert.match(out, /Sync is OK/);
  } finally {
    await h.stop();
  }
});
