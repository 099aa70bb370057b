/**
 * SASL DIGEST-MD5 with real clients, against Coracle and against a real ZooKeeper 3.8 given the
 * same JAAS `Server` section (which proves the test itself right), results compared:
 *
 * - zkCli.sh (the Java client, JAAS `Client` section via -Djava.security.auth.login.config):
 *   bob authenticates and creates a node with ACL sasl:bob:cdrwa; a client with a wrong
 *   password gets AuthFailed; a client without SASL gets "Insufficient permission" (NOAUTH).
 * - kazoo with sasl_options DIGEST-MD5 (pure-sasl), the same three clients.
 * - SASL required (zookeeper.sessionRequireClientSASLAuth=true ≡ `--zk-sasl-required`, here
 *   through `coracle zk-proxy` in front of the coracle binary's etcd API): a client without SASL
 *   is refused, bob is served.
 *
 * Coracle is the real `coracle` binary started with `--zk-sasl-users-file`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CORACLE_BIN, CoracleServer, startCoracle } from '../support/coracle-server';
import { AWAIT_KAZOO_AUTH_FAILURE, KazooError, closingClient, dedent, kazoo } from '../support/kazoo';
import { SYSTEM_PYTHON, peersRequired, requirePeer } from '../support/peers';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { type AuthTranscript, authTranscript, zkCliWithFlags } from '../support/zk-cli-auth';
import { type ZkProxyProcess, startZkProxyProcess } from '../support/zk-proxy-process';
import { ZookeeperPeer, startZookeeper } from '../support/zookeeper-peer';

const SERVER_JAAS = `// The JAAS file a ZooKeeper server is given; Coracle reads the same file.
Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
`;

function clientJaas(user: string, password: string): string {
  return `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="${user}"\n  password="${password}";\n};\n`;
}

/** JAAS files in a temp dir: the server's and one Client section per identity. */
interface JaasFiles {
  dir: string;
  server: string;
  bob: string;
  wrong: string;
}

function writeJaasFiles(): JaasFiles {
  const dir = createTempDir('coracle-sasl-');
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  return {
    dir, server: file('server-jaas.conf', SERVER_JAAS),
    bob: file('bob-jaas.conf', clientJaas('bob', 'bobsecret')), wrong: file('wrong-jaas.conf', clientJaas('bob', 'not-the-password')),
  };
}

/** zkCli with a JAAS client file (or none). */
function zkCliAs(jaas: string | undefined, connect: string, commands: string[]): Promise<string> {
  return zkCliWithFlags(connect, commands, jaas ? [`-Djava.security.auth.login.config=${jaas}`] : []);
}

/** The optional-SASL scenario with zkCli: bob, a wrong password, no SASL. */
async function zkCliScenario(connect: string, jaas: JaasFiles): Promise<Record<string, AuthTranscript>> {
  return {
    bob: authTranscript(await zkCliAs(jaas.bob, connect, [
      'create /sasl-app data sasl:bob:cdrwa', 'getAcl /sasl-app', 'get /sasl-app', 'create /sasl-app/child c', 'ls /sasl-app', 'whoami',
    ])),
    wrong: authTranscript(await zkCliAs(jaas.wrong, connect, ['get /sasl-app', 'ls /'])),
    anonymous: authTranscript(await zkCliAs(undefined, connect, ['get /sasl-app', 'set /sasl-app x', 'ls /', 'whoami'])),
  };
}

/** The scenario's expectations, asserted on both servers' transcripts. */
function assertZkCliScenario(s: Record<string, AuthTranscript>, server: string): void {
  const { bob, wrong, anonymous } = s as { bob: AuthTranscript; wrong: AuthTranscript; anonymous: AuthTranscript };
  assert.deepEqual(bob.events, ['SyncConnected', 'SaslAuthenticated'], `${server} bob events\n${bob.output}`);
  assert.match(bob.output, /Created \/sasl-app\n'sasl,'bob\n: cdrwa\ndata\nCreated \/sasl-app\/child\n\[child\]/, `${server} bob`);
  assert.match(bob.output, /Auth scheme: User\nip: 127\.0\.0\.1\nsasl: bob/, `${server} bob whoami`);
  assert.deepEqual(wrong.events, ['SyncConnected', 'AuthFailed'], `${server} wrong-password events\n${wrong.output}`);
  assert.match(wrong.output, /KeeperErrorCode = AuthFailed for \/sasl-app/, `${server} wrong password`);
  assert.deepEqual(anonymous.events, ['SyncConnected'], `${server} anonymous events`);
  assert.match(anonymous.output, /Insufficient permission : \/sasl-app\nInsufficient permission : \/sasl-app\n\[sasl-app, zookeeper\]\nAuth scheme: User\nip: 127\.0\.0\.1/, `${server} anonymous`);
}

/** pure-sasl, which kazoo needs for sasl_options (Debian python3-pure-sasl). */
function pureSaslSkip(): string | undefined {
  const kazooSkip = requirePeer('kazoo');
  if (kazooSkip) return kazooSkip;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import puresasl'], { timeout: 15_000, stdio: 'ignore' });
  if (r.status === 0) return undefined;
  const reason = `peer missing: ${SYSTEM_PYTHON} cannot import puresasl (python3-pure-sasl); run scripts/install-peers.sh`;
  if (peersRequired()) throw new Error(`${reason} [CORACLE_REQUIRE_PEERS=1]`);
  return reason;
}

/** The scenario with kazoo; each client's outcome as data or the exception's class name. */
async function kazooScenario(connect: string): Promise<Record<string, unknown>> {
  // Our own client `c` (the helper's `zk` is not started), always stopped so its session closes.
  const as = async (sasl: object | null, snippet: string): Promise<unknown> => {
    const code = `c = KazooClient(hosts=hosts, sasl_options=args)\n${closingClient(`c.start(timeout=10)\n${dedent(snippet)}`)}`;
    try {
      return await kazoo(connect, code, { args: sasl, connect: false, timeoutMs: 45_000 });
    } catch (e) {
      if (e instanceof KazooError) return { raised: e.pythonError };
      throw e;
    }
  };
  const digest = (user: string, password: string): object => ({ mechanism: 'DIGEST-MD5', username: user, password });
  return {
    bob: await as(digest('bob', 'bobsecret'), `
      from kazoo.security import make_acl
      c.create('/kz', b'kazoo', acl=[make_acl('sasl', 'bob', all=True)])
      data, _ = c.get('/kz')
      acls, _ = c.get_acls('/kz')
      result = {'data': data, 'acl': [[a.perms, a.id.scheme, a.id.id] for a in acls]}
    `),
    wrong: await wrongPassword(connect),
    anonymous: await as(null, `result = c.get('/kz')[0]`),
  };
}

/**
 * A client with a wrong password. kazoo reports "connected" before its SASL exchange ends, so
 * whether `start()` returns or times out, and what a first read raises, depend on which of its
 * threads runs first (seen both ways against Coracle, whose answer comes sooner than the JVM's),
 * and its AUTH_FAILED state lasts only until the connection loop ends. What is not a race is how
 * its connection loop classifies the failure: it logs "AUTH_FAILED closing" and stops, instead of
 * reconnecting. Wait for that line (bounded), and count the connection attempts.
 */
async function wrongPassword(connect: string): Promise<unknown> {
  const code = `c = KazooClient(hosts=hosts, sasl_options=args)\n${closingClient(AWAIT_KAZOO_AUTH_FAILURE)}`;
  return kazoo(connect, code, { args: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'not-the-password' }, connect: false, timeoutMs: 45_000 });
}

const SASL_PROVIDER = { 'authProvider.sasl': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider' };

test('SASL DIGEST-MD5 with zkCli.sh and kazoo: Coracle answers as ZooKeeper 3.8 does', { timeout: 150_000 }, async (t) => {
  const skip = requirePeer('zkCli', 'zookeeper');
  if (skip) return t.skip(skip);
  const kazooSkip = pureSaslSkip();
  const jaas = writeJaasFiles();
  let zk: ZookeeperPeer | undefined;
  let coracle: CoracleServer | undefined;
  try {
    [zk, coracle] = await Promise.all([
      startZookeeper({ config: SASL_PROVIDER, jvmArgs: [`-Djava.security.auth.login.config=${jaas.server}`], logLevel: 'warn' }),
      startCoracle(['--zk-sasl-users-file', jaas.server]),
    ]);
    const ref = await zkCliScenario(zk.connectString, jaas);
    assertZkCliScenario(ref, 'ZooKeeper');
    const ours = await zkCliScenario(`127.0.0.1:${coracle.zkPort}`, jaas);
    assertZkCliScenario(ours, 'Coracle');
    assert.deepEqual(ours, ref, 'zkCli transcripts differ');

    if (kazooSkip) {
      t.diagnostic(`kazoo part skipped: ${kazooSkip}`);
    } else {
      const kref = await kazooScenario(zk.connectString);
      assert.deepEqual(kref, {
        bob: { data: 'kazoo', acl: [[31, 'sasl', 'bob']] }, wrong: { authFailed: true, attempts: 1 }, anonymous: { raised: 'NoAuthError' },
      }, 'kazoo against ZooKeeper');
      assert.deepEqual(await kazooScenario(`127.0.0.1:${coracle.zkPort}`), kref, 'kazoo: Coracle vs ZooKeeper');
    }
  } finally {
    await Promise.all([zk?.stop(), coracle?.stop()]);
    removeTempDir(jaas.dir);
  }
});

test('SASL required: an unauthenticated zkCli is refused, bob is served (coracle zk-proxy vs ZooKeeper)', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zkCli', 'zookeeper');
  if (skip) return t.skip(skip);
  const jaas = writeJaasFiles();
  let zk: ZookeeperPeer | undefined;
  let coracle: CoracleServer | undefined;
  let proxy: ZkProxyProcess | undefined;
  try {
    [zk, coracle] = await Promise.all([
      startZookeeper({
        config: SASL_PROVIDER, logLevel: 'warn',
        jvmArgs: [`-Djava.security.auth.login.config=${jaas.server}`, '-Dzookeeper.sessionRequireClientSASLAuth=true'],
      }),
      startCoracle(),
    ]);
    proxy = await startZkProxyProcess(`http://${coracle.endpoint}`, [`--zk-sasl-users-file=${jaas.server}`, '--zk-sasl-required']);
    const run = async (connect: string): Promise<Record<string, AuthTranscript>> => ({
      anonymous: authTranscript(await zkCliAs(undefined, connect, ['ls /'])),
      bob: authTranscript(await zkCliAs(jaas.bob, connect, ['create /req r sasl:bob:cdrwa', 'get /req'])),
      wrong: authTranscript(await zkCliAs(jaas.wrong, connect, ['ls /'])),
    });
    const ref = await run(zk.connectString);
    const ours = await run(proxy.connect);
    for (const [server, s] of [['ZooKeeper', ref], ['Coracle', ours]] as const) {
      assert.match(s.anonymous!.output, /Session closed because client failed to authenticate/, `${server} anonymous:\n${s.anonymous!.output}`);
      assert.match(s.bob!.output, /Created \/req\nr/, `${server} bob`);
      assert.deepEqual(s.wrong!.events, ['SyncConnected', 'AuthFailed'], `${server} wrong password`);
      assert.deepEqual(s.anonymous!.events, ['SyncConnected'], `${server} anonymous events`);
    }
    assert.deepEqual(ours, ref, 'zkCli transcripts differ');
  } finally {
    await Promise.all([proxy?.stop(), zk?.stop()]);
    await coracle?.stop();
    removeTempDir(jaas.dir);
  }
});

test('a bad users file is a usage error (exit 2) naming the file and the line, before anything starts', { timeout: 60_000 }, () => {
  const jaas = writeJaasFiles();
  try {
    const bad = path.join(jaas.dir, 'bad-jaas.conf');
    fs.writeFileSync(bad, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="x"\n};\n');
    const run = (args: string[]): { status: number | null; stderr: string } => {
      const r = spawnSync(process.execPath, [CORACLE_BIN, ...args], { timeout: 30_000, encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr };
    };
    const bin = run(['--zk-sasl-users-file', bad, '--data-dir', path.join(jaas.dir, 'never-created')]);
    assert.equal(bin.status, 2, bin.stderr);
    assert.match(bin.stderr, new RegExp(`bad --zk-sasl-users-file: ${bad.replace(/[.]/g, '\\.')}:4: expected an option name or ';', found '\\}'`));
    assert.equal(fs.existsSync(path.join(jaas.dir, 'never-created')), false, 'no member was started');
    const proxy = run(['zk-proxy', '--endpoints=http://127.0.0.1:1', `--zk-sasl-users-file=${path.join(jaas.dir, 'missing.conf')}`]);
    assert.equal(proxy.status, 2, proxy.stderr);
    assert.match(proxy.stderr, /cannot read --zk-sasl-users-file .*missing\.conf: ENOENT/);
    const noUsers = run(['zk-proxy', '--endpoints=http://127.0.0.1:1', '--zk-sasl-required']);
    assert.equal(noUsers.status, 2, noUsers.stderr);
    assert.match(noUsers.stderr, /--zk-sasl-required needs --zk-sasl-users-file/);
  } finally {
    removeTempDir(jaas.dir);
  }
});
