/**
 * Enforced authentication with the digest scheme: `coracle --zk-enforce-auth-schemes=digest`
 * against a real ZooKeeper 3.8 with `enforce.auth.enabled=true` and `enforce.auth.schemes=digest`,
 * request by request over the wire: a connection that has not added a digest identity gets
 * SESSIONCLOSEDREQUIRESASLAUTH at its first request (a ping too) and is closed; `addauth ip`
 * does not count; after `addauth digest` everything is served. A bad scheme is a usage error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** One step's outcome: the reply's error code, or 'closed' when the connection went away. */
type Outcome = number | 'closed';

async function step(c: ZkWireClient, req: Parameters<ZkWireClient['send']>[0]): Promise<Outcome> {
  try {
    return (await c.send(req)).header.err;
  } catch {
    return 'closed';
  }
}

/** The same conversations against a server; returns every step's outcome by name. */
async function converse(port: number): Promise<Record<string, Outcome>> {
  const connect = (): Promise<ZkWireClient> => ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 });
  const out: Record<string, Outcome> = {};
  const plain = await connect();
  out.unauthGetData = await step(plain, { op: 'getData', path: '/zookeeper', watch: false });
  out.afterRefusal = await step(plain, { op: 'exists', path: '/', watch: false });
  await plain.close().catch(() => undefined);

  const pinger = await connect();
  out.unauthPing = await step(pinger, { op: 'ping' });
  await pinger.close().catch(() => undefined);

  const ip = await connect();
  out.ipAuth = await step(ip, { op: 'auth', type: 0, scheme: 'ip', auth: Buffer.from('127.0.0.1') });
  out.ipCreate = await step(ip, { op: 'create', path: '/ip', data: null, acl: OPEN, flags: 0 });
  await ip.close().catch(() => undefined);

  const digest = await connect();
  out.digestAuth = await step(digest, { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('alice:secret') });
  out.digestCreate = await step(digest, { op: 'create', path: '/d', data: Buffer.from('x'), acl: OPEN, flags: 0 });
  out.digestGetData = await step(digest, { op: 'getData', path: '/d', watch: false });
  out.digestDelete = await step(digest, { op: 'delete', path: '/d', version: -1 });
  await digest.close();
  return out;
}

test('--zk-enforce-auth-schemes=digest answers as ZooKeeper 3.8 with enforce.auth.schemes=digest', { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ config: { 'enforce.auth.enabled': 'true', 'enforce.auth.schemes': 'digest' } });
  try {
    const coracle = await startCoracle(['--zk-enforce-auth-schemes', 'digest']);
    try {
      const want = await converse(zk.port);
      assert.equal(want.unauthGetData, ZkErr.SESSIONCLOSEDREQUIRESASLAUTH, JSON.stringify(want));
      assert.equal(want.digestCreate, 0, JSON.stringify(want));
      assert.deepEqual(await converse(coracle.zkPort), want);
    } finally {
      await coracle.stop();
    }
  } finally {
    await zk.stop();
  }
});

test('--zk-enforce-auth-schemes refuses a scheme it cannot authenticate', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--zk-enforce-auth-schemes', 'kerberos'], /unknown scheme 'kerberos'/],
    [['--zk-enforce-auth-schemes', 'sasl'], /needs --zk-sasl-users-file/],
    [['--zk-enforce-auth-schemes', 'digest,x509'], /needs TLS clients/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [CORACLE_BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
