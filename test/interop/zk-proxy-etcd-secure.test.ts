/**
 * `coracle zk-proxy` in front of a REAL etcd 3.4 that accepts nothing less than credentials, as
 * production clusters run: the proxy's etcdctl-style flags (`--cacert`, `--cert`, `--key`,
 * `--user`) against the real server, every process the real binary.
 *
 * What it proves:
 * - TLS with client-certificate authentication (etcd `--client-cert-auth`): with `--cacert
 *   --cert --key` the proxy serves ZooKeeper over all three of its etcd channels: unary calls
 *   (create, getChildren), the lease keep-alive stream (an ephemeral node's lease stays renewed
 *   in etcd) and the watch stream (a data watch set through one proxy fires on a setData made
 *   through a second proxy, which only etcd's watch can carry). etcdctl over TLS reads the znodes
 *   back from etcd.
 * - Refusals: without a client certificate, or with a CA that did not sign etcd's certificate,
 *   the proxy does not start (exit 2 after its bounded start retries, with the TLS error on
 *   stderr); `--cert` without `--key` (and the reverse), `--user` without a password, and
 *   https:// mixed with http:// endpoints are usage errors (exit 2, at once).
 * - Authentication (etcd `auth enable`, `--auth-token-ttl 2`): with `--user root:rootpw`
 *   ZooKeeper requests work; after the token expired from idleness (etcd logs `invalid auth
 *   token`, its metrics count an Unauthenticated call and one more Authenticate) a write through
 *   the same session still works. A wrong password exits 2 with `etcd refused user root`; no
 *   `--user` at all exits 2 with etcd's own refusal (`user name is empty`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { EventType, type WatcherEvent, type ZkRequest } from '../../protocol/jute';
import { ZkWireClient, type WireReply } from '../../zkproxy/dispatch/zk-wire-client';
import { type EtcdPeer, httpGet, startEtcd } from '../support/etcd-peer';
import { etcdctl, etcdctlJson } from '../support/etcdctl';
import { requirePeer } from '../support/peers';
import type { CommandResult } from '../support/run-command';
import { sleep, waitUntil } from '../support/poll';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { makeTestCerts, type TestCerts } from '../support/tls-certs';
import { type ZkProxyProcess, runZkProxyToExit, startZkProxyProcess } from '../support/zk-proxy-process';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const EPHEMERAL = 1;
/**
 * A refusal is no outage: the start retries an unreachable store for 30 s, but a refused
 * certificate must end it at once (this bound leaves room for a slow machine, not for retries).
 */
const REFUSAL_EXIT_MS = 15_000;
/** etcd's `--auth-token-ttl` (seconds) in the authentication test, and how long the proxy then stays idle. */
const TOKEN_TTL_S = 2;
const IDLE_MS = 4_500;

/** Sends `req` and asserts that it succeeded (err 0). */
async function ok(c: ZkWireClient, req: ZkRequest): Promise<WireReply> {
  const r = await c.send(req);
  assert.equal(r.header.err, 0, `${req.op} ${'path' in req ? req.path : ''}: ZooKeeper error ${r.header.err}`);
  return r;
}

async function dataOf(c: ZkWireClient, p: string): Promise<string> {
  const r = await ok(c, { op: 'getData', path: p, watch: false });
  assert.ok(r.body?.op === 'getData', `getData ${p}: a ${r.body?.op} reply`);
  return String(r.body.data);
}

/** A ZooKeeper session on `proxy` (10 s timeout requested), with its notifications collected. */
async function session(proxy: ZkProxyProcess, events: WatcherEvent[] = [], timeoutMs = 10_000): Promise<ZkWireClient> {
  return ZkWireClient.connect({ host: proxy.host, port: proxy.port, timeoutMs, onNotification: (e) => events.push(e) });
}

/** etcdctl's TLS flags for a client certificate of `certs`. */
function etcdctlTls(certs: TestCerts, client: string): string[] {
  const c = certs.clients[client]!;
  return [`--cacert=${certs.caCert}`, `--cert=${c.cert}`, `--key=${c.key}`];
}

/** The zk-proxy flags that present `client`'s certificate to etcd. */
function proxyTls(certs: TestCerts, client: string, ca = certs.caCert): string[] {
  const c = certs.clients[client]!;
  return [`--cacert=${ca}`, `--cert=${c.cert}`, `--key=${c.key}`];
}

test('TLS with client-cert auth: --cacert/--cert/--key serve unary calls, lease keep-alives and watches; no or a wrong credential does not start', { timeout: 150_000 }, async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const dir = createTempDir('coracle-etcd-tls-');
  let etcd: EtcdPeer | undefined;
  const proxies: ZkProxyProcess[] = [];
  const clients: ZkWireClient[] = [];
  let refusals: Promise<CommandResult[]> | undefined;
  try {
    const certs = await makeTestCerts(dir, [{ name: 'proxy', subject: '/O=Coracle tests/CN=zk-proxy' }]);
    const proxyCert = certs.clients.proxy!;
    etcd = await startEtcd({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, clientCertAuth: true, client: proxyCert } });
    const endpoints = etcd.endpoints;
    assert.match(endpoints[0]!, /^https:\/\/127\.0\.0\.1:\d+$/);

    // The refusals take the proxy's whole start-retry window (~30 s): run them alongside.
    refusals = Promise.all([
      runZkProxyToExit(endpoints, [`--cacert=${certs.caCert}`], { timeoutMs: REFUSAL_EXIT_MS }),
      runZkProxyToExit(endpoints, proxyTls(certs, 'proxy', certs.untrustedCaCert), { timeoutMs: REFUSAL_EXIT_MS }),
    ]);

    const [a, b] = await Promise.all([startZkProxyProcess(endpoints, proxyTls(certs, 'proxy')), startZkProxyProcess(endpoints, proxyTls(certs, 'proxy'))]);
    proxies.push(a!, b!);
    const aEvents: WatcherEvent[] = [];
    // The shortest session (4 s, 2 ticks): a lease of 9 s, renewed about every 1.3 s on the stream.
    const onA = await session(a!, aEvents, 4000);
    const onB = await session(b!);
    clients.push(onA, onB);

    // Unary calls.
    await ok(onA, { op: 'create', path: '/tls-app', data: Buffer.from('v0'), acl: OPEN, flags: 0 });
    await ok(onA, { op: 'create', path: '/tls-app/persistent', data: Buffer.from('p'), acl: OPEN, flags: 0 });
    // The lease keep-alive stream: the ephemeral's lease (the session id) must keep being renewed.
    await ok(onA, { op: 'create', path: '/tls-app/eph', data: Buffer.from('e'), acl: OPEN, flags: EPHEMERAL });
    const children = await ok(onB, { op: 'getChildren', path: '/tls-app', watch: false });
    assert.deepEqual(children.body?.op === 'getChildren' && [...children.body.children].sort(), ['eph', 'persistent'], 'getChildren through the other proxy');

    // The watch stream: a watch on proxy a fires for a setData through proxy b.
    assert.equal(await dataOf(onA, '/tls-app'), 'v0');
    await ok(onA, { op: 'getData', path: '/tls-app', watch: true });
    await ok(onB, { op: 'setData', path: '/tls-app', data: Buffer.from('v1'), version: -1 });
    await waitUntil('the data watch fires on proxy a', () => aEvents.some((e) => e.path === '/tls-app'), 10_000, 20);
    assert.deepEqual(aEvents, [{ type: EventType.NodeDataChanged, state: 3, path: '/tls-app' }]);
    assert.equal(await dataOf(onA, '/tls-app'), 'v1');

    // 3.5 s after the grant, a lease of 9 s not renewed would have ≤ 5 s left; renewed every ~1.3 s, ≥ 7.
    await sleep(3500);
    const leaseHex = onA.session.sessionId.toString(16);
    const ttl = await etcdctlJson<{ ttl: number; 'granted-ttl': number }>(endpoints, [...etcdctlTls(certs, 'proxy'), 'lease', 'timetolive', leaseHex]);
    assert.equal(ttl['granted-ttl'], 9, `lease ${leaseHex}: ${JSON.stringify(ttl)}`);
    assert.ok(ttl.ttl >= 6, `lease ${leaseHex} renewed over the keep-alive stream: ${JSON.stringify(ttl)}`);
    assert.equal(await dataOf(onB, '/tls-app/eph'), 'e', 'the ephemeral lives on');

    // The znodes are in etcd: etcdctl over TLS with a client certificate reads them back.
    const keys = await etcdctl(endpoints, [...etcdctlTls(certs, 'proxy'), 'get', '--prefix', '/zk/', '--keys-only']);
    assert.equal(keys.code, 0, keys.stderr);
    for (const p of ['/tls-app', '/tls-app/persistent', '/tls-app/eph']) {
      assert.ok(keys.stdout.split('\n').some((k) => k.startsWith('/zk/n/') && k.endsWith(p)), `${p} in etcd:\n${keys.stdout}`);
    }
    const plain = await etcdctl(endpoints, [`--cacert=${certs.caCert}`, 'get', '/zk/', '--prefix', '--keys-only'], { timeoutMs: 8000 });
    assert.notEqual(plain.code, 0, 'etcd itself refuses a client without a certificate');

    const [noCert, wrongCa] = await refusals;
    for (const [what, r, err] of [
      ['no client certificate', noCert, /alert (bad certificate|certificate required).*check --cacert, --cert and --key/s],
      ['a CA that did not sign etcd', wrongCa, /unable to verify the first certificate|self[- ]signed certificate/],
    ] as const) {
      assert.equal(r.timedOut, false, `${what}: zk-proxy still running after ${REFUSAL_EXIT_MS} ms:\n${r.stderr}`);
      assert.equal(r.code, 2, `${what}: exit code\n${r.stderr}`);
      assert.match(r.stderr, err, `${what}: stderr`);
      assert.ok(!/zk-proxy serving/.test(r.stdout + r.stderr), `${what}: must not serve`);
      t.diagnostic(`${what}: exit ${r.code} after ${(r.durationMs / 1000).toFixed(1)} s: ${r.stderr.split('\n')[0]}`);
    }
  } finally {
    for (const c of clients) await c.close();
    await Promise.all(proxies.map((p) => p.stop()));
    await refusals?.catch(() => undefined); // each is killed at its own timeout
    await etcd?.stop();
    removeTempDir(dir);
  }
});

test('usage errors: --cert without --key and the reverse, --user without a password, https:// mixed with http:// endpoints', { timeout: 60_000 }, async () => {
  const dir = createTempDir('coracle-etcd-usage-');
  try {
    const pem = (n: string): string => path.join(dir, `${n}.pem`); // never read: the flags are refused first
    const cases: Array<[string, string[], string[], RegExp]> = [
      ['--cert without --key', ['https://127.0.0.1:1'], [`--cert=${pem('client')}`], /--cert and --key go together/],
      ['--key without --cert', ['https://127.0.0.1:1'], [`--key=${pem('client-key')}`], /--cert and --key go together/],
      ['--user without a password', ['http://127.0.0.1:1'], ['--user=root'], /--user root needs a password/],
      ['https:// and http:// endpoints', ['https://127.0.0.1:1', 'http://127.0.0.1:2'], [`--cacert=${pem('ca')}`], /--endpoints mixes https:\/\/ and plaintext URLs/],
    ];
    const results = await Promise.all(cases.map(([, eps, flags]) => runZkProxyToExit(eps, flags, { timeoutMs: 20_000 })));
    cases.forEach(([what, , , message], i) => {
      const r = results[i]!;
      assert.equal(r.timedOut, false, `${what}: still running:\n${r.stderr}`);
      assert.equal(r.code, 2, `${what}: exit code\n${r.stderr}`);
      assert.match(r.stderr, message, what);
      assert.ok(r.durationMs < 15_000, `${what}: refused before any connection attempt (${r.durationMs} ms)`);
    });
  } finally {
    removeTempDir(dir);
  }
});

/** etcd's `grpc_server_handled_total` counters, by `method/code`. */
async function grpcHandled(etcd: EtcdPeer): Promise<Map<string, number>> {
  const text = await httpGet(`${etcd.endpoints[0]}/metrics`, 5000);
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^grpc_server_handled_total\{grpc_code="(\w+)",grpc_method="(\w+)",[^}]*\} (\d+)$/gm)) {
    const k = `${m[2]}/${m[1]}`;
    out.set(k, (out.get(k) ?? 0) + Number(m[3]));
  }
  return out;
}

/** The counters that grew from `before` to `after`, with their growth. */
function grown(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v > (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

test('etcd authentication: --user works, survives token expiry (re-authenticates), a wrong password and no user do not start', { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd({ extraArgs: [`--auth-token-ttl=${TOKEN_TTL_S}`] });
  let proxy: ZkProxyProcess | undefined;
  let c: ZkWireClient | undefined;
  try {
    const eps = etcd.endpoints;
    for (const args of [['role', 'add', 'root'], ['user', 'add', 'root:rootpw'], ['user', 'grant-role', 'root', 'root'], ['auth', 'enable']]) {
      const r = await etcdctl(eps, args);
      assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
    }
    const anonymous = await etcdctl(eps, ['get', '/zk/', '--prefix']);
    assert.notEqual(anonymous.code, 0, 'auth is enabled: etcd refuses a client without a user');

    const [wrong, noUser] = await Promise.all([
      runZkProxyToExit(eps, ['--user=root:not-the-password'], { timeoutMs: REFUSAL_EXIT_MS }),
      runZkProxyToExit(eps, [], { timeoutMs: REFUSAL_EXIT_MS }),
    ]);
    assert.equal(wrong.code, 2, `wrong password: exit code (timed out: ${wrong.timedOut})\n${wrong.stderr}`);
    assert.match(wrong.stderr, /etcd refused user root \(check --user/);
    assert.match(wrong.stderr, /authentication failed, invalid user ID or password/);
    // Observed: without --user the first call (the key-space bootstrap) gets etcd's refusal, which
    // is not "unreachable", so the start ends at once with that message.
    assert.equal(noUser.code, 2, `no --user: exit code (timed out: ${noUser.timedOut})\n${noUser.stderr}`);
    assert.match(noUser.stderr, /etcdserver: user name is empty \(etcd authentication is enabled: give zk-proxy an etcd user with --user/);
    t.diagnostic(`no --user: exit ${noUser.code} after ${(noUser.durationMs / 1000).toFixed(1)} s: ${noUser.stderr.split('\n')[0]}`);

    proxy = await startZkProxyProcess(eps, ['--user', 'root:rootpw']);
    c = await session(proxy);
    await ok(c, { op: 'create', path: '/auth-app', data: Buffer.from('v1'), acl: OPEN, flags: 0 });
    assert.equal(await dataOf(c, '/auth-app'), 'v1');
    const keys = await etcdctl(eps, ['--user=root:rootpw', 'get', '--prefix', '/zk/n/', '--keys-only']);
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, /^\/zk\/n\/\d+\/auth-app$/m, 'the znode is in etcd');

    // Idle (the session's pings and lease keep-alives carry no token) until the token expired.
    await sleep(1000); // let etcdctl's own token calls settle out of the counters
    const before = await grpcHandled(etcd);
    const logFrom = etcd.members[0]!.process.lineCount;
    await sleep(IDLE_MS);
    await ok(c, { op: 'setData', path: '/auth-app', data: Buffer.from('v2'), version: -1 });
    assert.equal(await dataOf(c, '/auth-app'), 'v2');
    const delta = grown(before, await grpcHandled(etcd));
    t.diagnostic(`etcd calls during idle + write: ${JSON.stringify(delta)}`);
    const refused = Object.keys(delta).filter((k) => k.endsWith('/Unauthenticated'));
    assert.ok(refused.length > 0, `etcd refused the expired token at least once: ${JSON.stringify(delta)}`);
    assert.ok((delta['Authenticate/OK'] ?? 0) >= 1, `the proxy authenticated again: ${JSON.stringify(delta)}`);
    await etcd.members[0]!.process.waitForLine('invalid auth token', 5000, logFrom);

    // And a new session (a lease grant) and a create after that, for good measure.
    const again = await session(proxy);
    try {
      await ok(again, { op: 'create', path: '/auth-app/after', data: Buffer.from('x'), acl: OPEN, flags: EPHEMERAL });
    } finally {
      await again.close();
    }
  } finally {
    await c?.close();
    await proxy?.stop();
    await etcd.stop();
  }
});
