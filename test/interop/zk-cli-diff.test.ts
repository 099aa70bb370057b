/**
 * zkCli.sh from Apache ZooKeeper 3.8, one long session of the commands its help lists, typed
 * against a real ZooKeeper 3.8 and against `coracle` (LMDB, fsync): the two transcripts must be
 * the same line for line once what each server picks for itself is normalized (session ids,
 * times, ports; zxids compared by rank, so their order and equalities must match).
 * Watch notifications are compared as their own ordered list (zk-cli-transcript.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { startCoracle } from '../support/coracle-server';
import { cliTranscripts, sameTranscript } from '../support/zk-cli-transcript';

/** bob:pw as ZooKeeper's digest scheme stores it (base64 of SHA-1 of "bob:pw"). */
const BOB = 'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=';

/** What a new user tries, errors included; each line's reply is compared. */
const SCRIPT = [
  'version',
  'create /app hello',
  'create /app again',
  'create /app/child',
  'create -e /app/eph e',
  'create -s /app/seq- s',
  'create -s -e /app/eseq- es',
  'create -c /cont',
  'create -c /cont/kid k',
  'create -t 60000 /ttl t',
  'create /nochild/x',
  'create /app/eph/sub',
  'create bad',
  'create /app/ x',
  'ls /',
  'ls -s /app',
  'ls -R /',
  'get /app',
  'get -s /app',
  'get /missing',
  'stat /app',
  'stat /missing',
  'set /app v2',
  'set -s /app v3',
  'set -v 7 /app v4',
  'getAllChildrenNumber /',
  'getAllChildrenNumber /app',
  'getAllChildrenNumber /missing',
  'getEphemerals',
  'getEphemerals /app',
  'delete /app',
  'delete -v 9 /app/child',
  'delete /app/child',
  'setquota -n 5 /app',
  'listquota /app',
  'setquota -b 100 /app',
  'listquota /app',
  'delquota -n /app',
  'listquota /app',
  'delquota /app',
  'listquota /app',
  'listquota /missing',
  'getAcl /app',
  'getAcl -s /app',
  'create /ro r world:anyone:r',
  'set /ro w',
  'getAcl /ro',
  'addauth digest bob:pw',
  'create /sec s auth::cdrwa',
  'getAcl /sec',
  `setAcl /sec digest:${BOB}:rw`,
  'setAcl -v 5 /sec world:anyone:cdrwa',
  'getAcl -s /sec',
  'delete /sec',
  'setAcl -R /app world:anyone:cdrw',
  'getAcl /app/seq-0000000002',
  'whoami',
  'config',
  'reconfig -remove 3',
  'sync /app',
  'sync /missing',
  'addWatch /app',
  'addWatch -m PERSISTENT /cont',
  'stat -w /app',
  'ls -w /app',
  'get -w /app',
  'set /app trigger',
  'create /app/w',
  'removewatches /cont',
  'removewatches /missing',
  'deleteall /cont',
  'ls /',
  'delete /zookeeper',
  'create /zookeeper/x',
  'ls /zookeeper',
  'get /zookeeper/quota',
  'stat /zookeeper',
  'bogus',
];

test('zkCli.sh: one session of every command, ZooKeeper 3.8 and Coracle print the same', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper', 'zkCli');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true'] });
  try {
    const coracle = await startCoracle();
    try {
      const { want, got, raw } = await cliTranscripts(zk.connectString, `127.0.0.1:${coracle.zkPort}`, SCRIPT);
      // The script really ran: these would be missing from a transcript that stopped early.
      assert.ok(want.lines.includes('Created /app/eseq-0000000003'), raw);
      assert.ok(want.lines.some((l) => l.startsWith('Command not found')), raw);
      sameTranscript(got, want);
      assert.ok(want.events.length >= 3, `the watches fired: ${want.events.join('; ')}`);
    } finally {
      await coracle.stop();
    }
  } finally {
    await zk.stop();
  }
});
