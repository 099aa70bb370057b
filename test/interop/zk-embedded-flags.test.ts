/**
 * The ZooKeeper front end of the `coracle` binary honours its zoo.cfg-style flags, as an
 * operator of the embedded default sets them: the session timeout bounds clamp what a client
 * asks for, `--zk-max-buffer` refuses a larger frame (that connection only), a container is
 * reaped at `--zk-container-check-ms`, `--zk-super-digest` grants the super identity, and
 * `--zk-ttl-nodes=false` refuses TTL nodes. Bad combinations (and an unknown four-letter word
 * in `--zk-4lw-commands-whitelist`) are usage errors; a client port already taken stops the start
 * with a message that names the flag, and the data dir serves at the next start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { CreateMode, ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { createServer } from 'node:net';
import path from 'node:path';
import { CORACLE_BIN, httpGet, startCoracle } from '../support/coracle-server';
import { startProcess } from '../support/process';
import { pollUntil } from '../support/poll';
import { freePorts, releasePorts } from '../support/ports';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { fourLetterWord } from '../support/zookeeper-peer';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const SUPER_PASSWORD = 'super-secret';
const SUPER_DIGEST = `super:${createHash('sha1').update(`super:${SUPER_PASSWORD}`).digest('base64')}`;

test('the embedded ZooKeeper front end honours its flags', { timeout: 90_000 }, async () => {
  const c = await startCoracle([
    '--zk-tick-time', '1000', '--zk-min-session-timeout', '5000', '--zk-max-session-timeout', '8000',
    '--zk-max-buffer', '4096', '--zk-container-check-ms', '300', '--zk-super-digest', SUPER_DIGEST, '--zk-ttl-nodes=false',
  ]);
  const clients: ZkWireClient[] = [];
  const connect = async (timeoutMs: number): Promise<ZkWireClient> => {
    const z = await ZkWireClient.connect({ host: '127.0.0.1', port: c.zkPort, timeoutMs });
    clients.push(z);
    return z;
  };
  try {
    assert.equal((await connect(1000)).session.timeOut, 5000, 'a short timeout is raised to --zk-min-session-timeout');
    assert.equal((await connect(60_000)).session.timeOut, 8000, 'a long timeout is cut to --zk-max-session-timeout');
    const z = await connect(6000);
    assert.equal(z.session.timeOut, 6000);
    const conf = await fourLetterWord('127.0.0.1', c.zkPort, 'conf');
    // The member's own directories and their sizes, where ZooKeeper names its dataDir and dataLogDir.
    assert.match(conf, new RegExp(`^dataDir=${escapeRe(c.dataDir)}/member\\ndataDirSize=[1-9]\\d*\\ndataLogDir=${escapeRe(c.dataDir)}/member/wal\\ndataLogSize=[1-9]\\d*$`, 'm'), conf);
    assert.match(await fourLetterWord('127.0.0.1', c.zkPort, 'dirs'), /^datadir_size: [1-9]\d*\nlogdir_size: [1-9]\d*\n$/);
    assert.match(conf, /^tickTime=1000$/m, conf);
    assert.match(conf, /^minSessionTimeout=5000$/m);
    assert.match(conf, /^maxSessionTimeout=8000$/m);

    // A frame over --zk-max-buffer closes that connection; the others carry on.
    const big = await connect(6000);
    const refused = await big.send({ op: 'create', path: '/big', data: Buffer.alloc(8192, 1), acl: OPEN, flags: 0 }).then(() => 'answered', () => 'closed');
    assert.equal(refused, 'closed', 'an 8 KiB frame under --zk-max-buffer 4096 was accepted');
    assert.equal((await z.send({ op: 'exists', path: '/big', watch: false })).header.err, ZkErr.NONODE);
    assert.equal((await z.send({ op: 'create', path: '/small', data: Buffer.alloc(1024, 1), acl: OPEN, flags: 0 })).header.err, 0);

    // TTL nodes are refused when disabled (ZooKeeper answers UNIMPLEMENTED).
    const ttl = await z.send({ op: 'createTTL', path: '/ttl', data: null, acl: OPEN, flags: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000n });
    assert.equal(ttl.header.err, ZkErr.UNIMPLEMENTED);

    // A container whose last child goes is reaped at the configured interval.
    assert.equal((await z.send({ op: 'createContainer', path: '/box', data: null, acl: OPEN, flags: CreateMode.CONTAINER })).header.err, 0);
    assert.equal((await z.send({ op: 'create', path: '/box/item', data: null, acl: OPEN, flags: 0 })).header.err, 0);
    assert.equal((await z.send({ op: 'delete', path: '/box/item', version: -1 })).header.err, 0);
    await pollUntil('the empty container to be reaped', async () => ((await z.send({ op: 'exists', path: '/box', watch: false })).header.err === ZkErr.NONODE ? true : undefined), 10_000);

    // The super digest reads a node nobody else may read.
    const secret = [{ perms: 31, id: { scheme: 'digest', id: `bob:${createHash('sha1').update('bob:pw').digest('base64')}` } }];
    assert.equal((await z.send({ op: 'create', path: '/secret', data: Buffer.from('s'), acl: secret, flags: 0 })).header.err, 0);
    assert.equal((await z.send({ op: 'getData', path: '/secret', watch: false })).header.err, ZkErr.NOAUTH);
    const admin = await connect(6000);
    await admin.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from(`super:${SUPER_PASSWORD}`) });
    assert.equal((await admin.send({ op: 'getData', path: '/secret', watch: false })).header.err, 0, 'the super digest did not bypass the ACL');
  } finally {
    for (const z of clients) await z.close().catch(() => undefined);
    await c.stop();
  }
});

test('inconsistent ZooKeeper flags are usage errors', () => {
  const bad = [
    ['--zk-min-session-timeout', '9000', '--zk-max-session-timeout', '3000'],
    ['--zk-tick-time', '0'],
    ['--zk-max-buffer', '100'],
    ['--zk-4lw-commands-whitelist', 'ruok,mntrr'],
    ['--zk-max-cnxns', '-1'],
  ];
  for (const args of bad) {
    const r = spawnSync(process.execPath, [CORACLE_BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, /--zk-/);
  }
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('a ZooKeeper or etcd client port already taken stops the start and names the flag', { timeout: 90_000 }, async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as { port: number }).port;
  const [clientPort, zkPort] = (await freePorts(2)) as [number, number];
  const root = createTempDir('coracle-taken-');
  const dataDir = path.join(root, 'data');
  const run = (client: number, zk: number): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [
    CORACLE_BIN, '--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${client}`, '--zk-listen', `127.0.0.1:${zk}`, '--log-level', 'error',
  ], { encoding: 'utf8', timeout: 30_000 });
  try {
    const cases: Array<[number, number, string, string]> = [
      [clientPort, taken, `ZooKeeper clients on 127.0.0.1:${taken}`, '--zk-listen'],
      [taken, zkPort, `etcd clients on http://127.0.0.1:${taken}`, '--listen-client-urls'],
    ];
    for (const [client, zk, where, flag] of cases) {
      const r = run(client, zk);
      assert.equal(r.status, 1, `${flag} taken: exit ${r.status} (signal ${r.signal}), ${r.stderr}${r.stdout}`);
      assert.match(`${r.stderr}${r.stdout}`, new RegExp(`cannot serve ${escapeRe(where)}: .*EADDRINUSE.*\\(change ${flag}\\)`));
      assert.doesNotMatch(`${r.stderr}${r.stdout}`, /\n\s+at /, 'a message, not a stack trace');
    }
    // The member stopped cleanly: the same data dir starts and serves on free ports.
    squatter.close();
    const again = startProcess(process.execPath, [
      CORACLE_BIN, '--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${taken}`, '--zk-listen', '', '--log-level', 'error',
    ], { name: 'coracle' });
    try {
      await pollUntil('the restarted member is healthy', async () => {
        if (again.exited) throw again.failure('coracle exited during start');
        return (await httpGet(taken, '/health'))?.status === 200 ? true : undefined;
      }, 15_000);
    } finally {
      assert.equal((again.exited ? again.exit! : await again.stop()).code, 0);
    }
  } finally {
    squatter.close();
    releasePorts([clientPort, zkPort]);
    removeTempDir(root);
  }
});
