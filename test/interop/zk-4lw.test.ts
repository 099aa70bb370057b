/**
 * Four-letter words on the ZooKeeper port (zk-protocol.md §1.14), in the formats monitoring
 * tools parse: ruok → imok, isro → rw, srvr/stat ("Mode:", "Zxid:", "Node count:"), mntr
 * (tab-separated zk_* lines), conf, cons, envi, wchs; other words get the whitelist message,
 * as do the words `--zk-4lw-commands-whitelist` leaves out (compared with ZooKeeper 3.8 run with
 * the same 4lw.commands.whitelist).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';
import { requirePeer } from '../support/peers';
import { startCoracle } from '../support/coracle-server';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

test('four-letter words', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  const c = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    await c.send({ op: 'getData', path: '/zookeeper', watch: true });
    const word = (w: string): Promise<string> => fourLetterWord(h.host, h.port, w);
    assert.equal(await word('ruok'), 'imok');
    assert.equal(await word('isro'), 'rw');
    const srvr = await word('srvr');
    assert.match(srvr, /^Zookeeper version: 3\.8\.0-coracle/);
    assert.match(srvr, /\nLatency min\/avg\/max: \d+\/[\d.]+\/\d+\n/);
    assert.match(srvr, /\nMode: standalone\n/);
    assert.match(srvr, /\nZxid: 0x[0-9a-f]+\n/);
    // ZooKeeper counts its root twice: a fresh server with its four znodes says 5.
    assert.match(srvr, /\nNode count: 5\n/);
    assert.match(await word('stat'), /Clients:\n \/127\.0\.0\.1:\d+\[1\]\(queued=0,recved=\d+,sent=\d+\)\n/);
    const mntr = await word('mntr');
    for (const key of ['zk_version', 'zk_server_state', 'zk_avg_latency', 'zk_packets_received', 'zk_num_alive_connections', 'zk_znode_count', 'zk_watch_count', 'zk_ephemerals_count', 'zk_approximate_data_size']) {
      assert.match(mntr, new RegExp(`^${key}\\t\\S+`, 'm'), key);
    }
    assert.match(mntr, /^zk_watch_count\t1$/m);
    // Real descriptor counts (what alerts watch before a server runs out of sockets).
    const fd = (k: string): number => Number(new RegExp(`^${k}\\t(\\d+)$`, 'm').exec(mntr)?.[1]);
    assert.ok(fd('zk_open_file_descriptor_count') >= 3, 'open descriptors counted');
    assert.ok(fd('zk_max_file_descriptor_count') >= fd('zk_open_file_descriptor_count'), 'the limit is at least what is open');
    assert.match(await word('conf'), /^clientPort=\d+\n(.*\n)*tickTime=2000\n(.*\n)*minSessionTimeout=4000\nmaxSessionTimeout=40000\n/m);
    assert.match(await word('cons'), /sid=0x[0-9a-f]+/);
    // A session that has only shaken hands shows it as ZooKeeper does (lop=SESS, recved=1), and
    // every hex field in Java's form (Long.toHexString: never '0x-1').
    const fresh = await ZkWireClient.connect({ host: h.host, port: h.port });
    try {
      const line = (await word('cons')).split('\n').find((l) => l.includes(`sid=0x${fresh.session.sessionId.toString(16)},`)) ?? '';
      assert.match(line, /\(queued=0,recved=1,sent=1,sid=0x[0-9a-f]+,lop=SESS,est=\d+,to=\d+,lcxid=0x0,lzxid=0x[0-9a-f]+,/);
      assert.doesNotMatch(await word('cons'), /0x-/);
    } finally {
      await fresh.close();
    }
    assert.match(await word('envi'), /^Environment:\nzookeeper\.version=/);
    assert.match(await word('wchs'), /connections watching 1 paths\nTotal watches:1\n/);
    assert.equal(await word('gtmk'), '306', 'ZooTrace\'s initial mask');
    // Over a store kept elsewhere (here the in-memory one, as zk-proxy over etcd) there is no directory to report.
    assert.match(await word('dirs'), /dirs is not executed because it is not in the whitelist/);
    assert.match(await word('conf'), /^dataDir=coracle\ndataDirSize=0$/m);
    const again = await c.send({ op: 'exists', path: '/', watch: false });
    assert.equal(again.header.err, 0, 'normal sessions are unaffected');
  } finally {
    await c.close();
    await h.stop();
  }
});

test('--zk-4lw-commands-whitelist: the listed words answer, the others get the text ZooKeeper 3.8 gives with the same 4lw.commands.whitelist', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ config: { '4lw.commands.whitelist': 'ruok, isro ,srvr' } });
  try {
    const coracle = await startCoracle(['--zk-4lw-commands-whitelist', 'ruok, isro ,srvr']);
    try {
      for (const w of ['ruok', 'isro', 'mntr', 'dump', 'cons', 'wchc', 'crst', 'envi', 'gtmk', 'stmk']) {
        const [want, got] = await Promise.all([fourLetterWord('127.0.0.1', zk.port, w), fourLetterWord('127.0.0.1', coracle.zkPort, w)]);
        assert.equal(got, want, w);
      }
      assert.match(await fourLetterWord('127.0.0.1', coracle.zkPort, 'srvr'), /\nMode: standalone\n/);
      assert.equal(await fourLetterWord('127.0.0.1', coracle.zkPort, 'mntr'), 'mntr is not executed because it is not in the whitelist.\n');
    } finally {
      await coracle.stop();
    }
  } finally {
    await zk.stop();
  }
});

/** stmk with its 8-byte big-endian mask. */
const stmk = (mask: bigint): Buffer => {
  const b = Buffer.alloc(12);
  b.write('stmk', 0, 'ascii');
  b.writeBigInt64BE(mask, 4);
  return b;
};

test('gtmk and stmk answer as ZooKeeper 3.8 does; stmk\'s mask may arrive after the word', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper();
  try {
    const coracle = await startCoracle([]);
    try {
      const both = (word: string | Buffer): Promise<string[]> => Promise.all([zk.port, coracle.zkPort].map((p) => fourLetterWord('127.0.0.1', p, word)));
      const gtmk = 'gtmk';
      assert.deepEqual(await both(gtmk), ['306', '306']);
      for (const mask of [74n, -1n, 0n]) {
        const [want, got] = await both(stmk(mask));
        assert.equal(got, want, `stmk ${mask}`);
        assert.deepEqual(await both(gtmk), [String(mask), String(mask)]);
      }
      const whole = stmk(0x7fffffffffffffffn);
      assert.equal(await fourLetterWord('127.0.0.1', coracle.zkPort, [whole.subarray(0, 4), whole.subarray(4, 9), whole.subarray(9)]), '9223372036854775807');
      assert.equal(await fourLetterWord('127.0.0.1', coracle.zkPort, gtmk), '9223372036854775807');
      const c = await ZkWireClient.connect({ host: '127.0.0.1', port: coracle.zkPort });
      assert.equal((await c.send({ op: 'exists', path: '/', watch: false })).header.err, 0, 'sessions are unaffected');
      await c.close();
    } finally {
      await coracle.stop();
    }
  } finally {
    await zk.stop();
  }
});

test('a four-letter-word client that never closes its side does not hold up the shutdown', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  let stopped = false;
  const sock = connect({ host: h.host, port: h.port, allowHalfOpen: true });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (text += d));
      sock.on('end', () => resolve(text)); // the server's side is done; ours stays open
      sock.on('error', reject);
      sock.write('ruok');
    });
    assert.equal(answer, 'imok');
    await Promise.race([h.stop(), new Promise((_, reject) => setTimeout(() => reject(new Error('the shutdown waited for a half-open four-letter-word connection')), 5000))]);
    stopped = true;
  } finally {
    sock.destroy();
    if (!stopped) await h.stop();
  }
});
