/**
 * SASL GSSAPI (Kerberos V5) with real clients and a real MIT KDC (test/support/kdc.ts), run the
 * same way against a real ZooKeeper 3.8 (which proves the KDC harness and the client setups
 * right) and against Coracle, results compared. Both servers get the same JAAS `Server` section
 * (Krb5LoginModule with the keytab of `zookeeper/localhost@CORACLE.TEST`): ZooKeeper through
 * -Djava.security.auth.login.config, Coracle through `--zk-sasl-users-file`.
 *
 * Per server, connecting to `localhost:<port>` (the Java client and MIT's GSS name the service
 * `zookeeper/<host they were given>`):
 * - zkCli.sh with a JAAS `Client` section (Krb5LoginModule, the client's keytab): alice
 *   authenticates, `whoami` shows `sasl: alice@CORACLE.TEST`, she creates /kerb with ACL
 *   sasl:alice@CORACLE.TEST:cdrwa and reads it back; bob authenticates and gets "Insufficient
 *   permission"; a client without Kerberos credentials (no JAAS file) likewise.
 * - kazoo with sasl_options GSSAPI (pure-sasl over python3-kerberos, a `kinit` ticket cache):
 *   the same three clients on /kz.
 * - A stale server key: the service principal is re-keyed in the KDC after the server's keytab
 *   was written, so a new ticket is encrypted in a key the server does not hold: both clients
 *   get an authentication failure.
 *
 * The ZooKeeper half and the Coracle half are separate subtests: the first must pass on its own;
 * the second compares each scenario's outcome with the first's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { type CoracleServer, startCoracle } from '../support/coracle-server';
import { type Kdc, kdcSkip, startKdc } from '../support/kdc';
import { KERBEROS_SERVICE as SERVICE, SASL_PROVIDER_CONFIG as SASL_PROVIDER, kdcFile, krb5Section, zkCliKerberosFlags } from '../support/kerberos-jaas';
import { AWAIT_KAZOO_AUTH_FAILURE, KazooError, closingClient, dedent, kazoo } from '../support/kazoo';
import { SYSTEM_PYTHON, peersRequired, requirePeer } from '../support/peers';
import { type AuthTranscript, authTranscript, zkCliWithFlags } from '../support/zk-cli-auth';
import { type ZookeeperPeer, startZookeeper } from '../support/zookeeper-peer';

/** The realm's principals, their keytabs and the JAAS files that use them. */
interface Realm {
  kdc: Kdc;
  /** `alice@CORACLE.TEST` and so on. */
  alice: string;
  bob: string;
  keytabs: { alice: string; bob: string; server: string };
  jaas: { server: string; alice: string; bob: string };
}

async function makeRealm(kdc: Kdc): Promise<Realm> {
  const [alice, bob] = [`alice@${kdc.realm}`, `bob@${kdc.realm}`];
  const keytabs = { alice: await kdc.addPrincipal('alice'), bob: await kdc.addPrincipal('bob'), server: await kdc.addPrincipal(SERVICE) };
  const file = (name: string, text: string): string => kdcFile(kdc, name, text);
  const jaas = {
    server: file('server-jaas.conf', krb5Section('Server', keytabs.server, `${SERVICE}@${kdc.realm}`)),
    alice: file('alice-jaas.conf', krb5Section('Client', keytabs.alice, alice)),
    bob: file('bob-jaas.conf', krb5Section('Client', keytabs.bob, bob)),
  };
  return { kdc, alice, bob, keytabs, jaas };
}

/**
 * zkCli with the realm's krb5.conf and a JAAS client file (or none); see zkCliKerberosFlags.
 * Calls in this file are sequential (zkCliWithFlags sets CLIENT_JVMFLAGS around each).
 */
function zkCliAs(realm: Realm, jaas: string | undefined, connect: string, commands: string[]): Promise<string> {
  return zkCliWithFlags(connect, commands, zkCliKerberosFlags(realm.kdc.krb5Conf, jaas));
}

/** What pure-sasl's GSSAPI needs besides kazoo: Debian's python3-pure-sasl and python3-kerberos. */
function kazooGssapiSkip(): string | undefined {
  const kazooSkip = requirePeer('kazoo');
  if (kazooSkip) return kazooSkip;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', 'import puresasl, kerberos'], { timeout: 15_000, stdio: 'ignore' });
  if (r.status === 0) return undefined;
  const reason = `peer missing: ${SYSTEM_PYTHON} cannot import puresasl and kerberos (python3-pure-sasl, python3-kerberos); run scripts/install-peers.sh`;
  if (peersRequired()) throw new Error(`${reason} [CORACLE_REQUIRE_PEERS=1]`);
  return reason;
}

/**
 * A kazoo client as `who` (a new `kinit` ticket cache each time, so no service ticket of an
 * earlier client is reused; `undefined`: no SASL), running `snippet` with client `c`; the
 * result, or `{ raised: <Python exception class> }`. MIT's library reads KRB5_CONFIG and
 * KRB5CCNAME when the GSS exchange starts, after the snippet has set them.
 */
async function kazooAs(realm: Realm, who: 'alice' | 'bob' | undefined, connect: string, snippet: string): Promise<unknown> {
  const ccache = who ? await realm.kdc.kinit(realm[who], realm.keytabs[who]) : undefined;
  const code = dedent(`
    import os
    os.environ['KRB5_CONFIG'] = args['krb5Conf']
    if args['ccache']:
        os.environ['KRB5CCNAME'] = args['ccache']
    sasl = {'mechanism': 'GSSAPI', 'service': 'zookeeper'} if args['ccache'] else None
    c = KazooClient(hosts=hosts, sasl_options=sasl)
  `) + closingClient(dedent(snippet));
  try {
    return await kazoo(connect, code, { args: { krb5Conf: realm.kdc.krb5Conf, ccache: ccache ?? null }, connect: false, timeoutMs: 45_000 });
  } catch (e) {
    if (e instanceof KazooError) return { raised: e.pythonError };
    throw e;
  }
}


/** Every scenario's outcome on one server. */
interface Outcome {
  zkCli: Record<'alice' | 'bob' | 'anonymous' | 'staleKey', AuthTranscript>;
  kazoo?: Record<'alice' | 'bob' | 'anonymous' | 'staleKey', unknown>;
}

/**
 * Runs every scenario against the server at `connect` (`localhost:<port>`), which was started
 * with the current server keytab; re-keys the service principal before the stale-key scenarios.
 */
async function scenarios(realm: Realm, connect: string, withKazoo: boolean): Promise<Outcome> {
  const { jaas, alice } = realm;
  const since = realm.kdc.process.lineCount;
  const cli = {
    alice: authTranscript(await zkCliAs(realm, jaas.alice, connect, [
      'whoami', `create /kerb data sasl:${alice}:cdrwa`, 'getAcl /kerb', 'get /kerb', 'create /kerb/child c', 'ls /kerb',
    ])),
    bob: authTranscript(await zkCliAs(realm, jaas.bob, connect, ['whoami', 'get /kerb', 'set /kerb bob', 'ls /'])),
    anonymous: authTranscript(await zkCliAs(realm, undefined, connect, ['get /kerb', 'ls /', 'whoami'])),
  };
  // The KDC's log proves the ticket was real: alice asked for the service over TGS with AES.
  await realm.kdc.process.waitForLine(new RegExp(`TGS_REQ .* ISSUE: .*tkt=aes256-cts-hmac-sha1-96.* ${alice} for ${SERVICE}@`), 5000, since);
  const kz = withKazoo ? {
    alice: await kazooAs(realm, 'alice', connect, `
      from kazoo.security import make_acl
      c.start(timeout=10)
      c.create('/kz', b'kazoo', acl=[make_acl('sasl', '${alice}', all=True)])
      data, _ = c.get('/kz')
      acls, _ = c.get_acls('/kz')
      result = {'data': data, 'acl': [[a.perms, a.id.scheme, a.id.id] for a in acls]}
    `),
    bob: await kazooAs(realm, 'bob', connect, `c.start(timeout=10)\nresult = c.get('/kz')[0]`),
    anonymous: await kazooAs(realm, undefined, connect, `c.start(timeout=10)\nresult = c.get('/kz')[0]`),
  } : undefined;

  await realm.kdc.rekey(SERVICE);
  const staleCli = authTranscript(await zkCliAs(realm, jaas.alice, connect, ['get /kerb', 'ls /']));
  const staleKazoo = withKazoo ? await kazooAs(realm, 'alice', connect, AWAIT_KAZOO_AUTH_FAILURE) : undefined;
  return {
    zkCli: { ...cli, staleKey: staleCli },
    ...(kz ? { kazoo: { ...kz, staleKey: staleKazoo } } : {}),
  };
}

/** The expectations, asserted on both servers' outcomes (ZooKeeper's proves them right). */
function assertOutcome(o: Outcome, server: string, realm: Realm): void {
  const { alice, bob, anonymous, staleKey } = o.zkCli;
  const ids = (...xs: string[]): string => `Auth scheme: User\n${xs.sort().join('\n')}`;
  assert.deepEqual(alice.events, ['SyncConnected', 'SaslAuthenticated'], `${server} alice events\n${alice.output}`);
  assert.ok(alice.output.includes(ids('ip: 127.0.0.1', `sasl: ${realm.alice}`)), `${server} alice whoami:\n${alice.output}`);
  assert.ok(alice.output.includes(`Created /kerb\n'sasl,'${realm.alice}\n: cdrwa\ndata\nCreated /kerb/child\n[child]`), `${server} alice:\n${alice.output}`);
  assert.deepEqual(bob.events, ['SyncConnected', 'SaslAuthenticated'], `${server} bob events\n${bob.output}`);
  assert.ok(bob.output.includes(`${ids('ip: 127.0.0.1', `sasl: ${realm.bob}`)}\nInsufficient permission : /kerb\nInsufficient permission : /kerb\n[kerb, zookeeper]`), `${server} bob:\n${bob.output}`);
  assert.deepEqual(anonymous.events, ['SyncConnected'], `${server} anonymous events\n${anonymous.output}`);
  assert.ok(anonymous.output.includes(`Insufficient permission : /kerb\n[kerb, zookeeper]\n${ids('ip: 127.0.0.1')}`), `${server} anonymous:\n${anonymous.output}`);
  assert.deepEqual(staleKey.events, ['SyncConnected', 'AuthFailed'], `${server} stale key events\n${staleKey.output}`);
  assert.match(staleKey.output, /KeeperErrorCode = AuthFailed for \/kerb/, `${server} stale key`);
  if (o.kazoo) {
    assert.deepEqual(o.kazoo, {
      alice: { data: 'kazoo', acl: [[31, 'sasl', realm.alice]] }, bob: { raised: 'NoAuthError' }, anonymous: { raised: 'NoAuthError' },
      staleKey: { authFailed: true, attempts: 1 },
    }, `${server} kazoo`);
  }
}

test('SASL GSSAPI (Kerberos) with zkCli.sh and kazoo: Coracle answers as ZooKeeper 3.8 does', { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('zkCli', 'zookeeper') ?? kdcSkip();
  if (skip) return t.skip(skip);
  const kazooSkip = kazooGssapiSkip();
  if (kazooSkip) t.diagnostic(`kazoo part skipped: ${kazooSkip}`);
  // Both servers listen on 127.0.0.1 only, and clients connect to `localhost`.
  const addrs = (await lookup('localhost', { all: true })).map((a) => a.address);
  assert.ok(addrs.includes('127.0.0.1'), `localhost must resolve to 127.0.0.1 (it resolves to ${addrs.join(', ')})`);
  const kdc = await startKdc();
  try {
    const realm = await makeRealm(kdc);
    let ref: Outcome | undefined;

    await t.test('ZooKeeper 3.8 (proves the KDC, the JAAS files and the clients right)', async () => {
      let zk: ZookeeperPeer | undefined;
      try {
        zk = await startZookeeper({
          config: SASL_PROVIDER, logLevel: 'warn',
          jvmArgs: [`-Djava.security.auth.login.config=${realm.jaas.server}`, `-Djava.security.krb5.conf=${kdc.krb5Conf}`],
        });
        const outcome = await scenarios(realm, `localhost:${zk.port}`, !kazooSkip);
        assertOutcome(outcome, 'ZooKeeper', realm);
        ref = outcome;
      } finally {
        await zk?.stop();
      }
    });

    await t.test('Coracle, scenario by scenario against ZooKeeper', async (st) => {
      if (!ref) return st.skip('the ZooKeeper half failed: nothing to compare with');
      // The ZooKeeper half left the service key stale: a new keytab, matching the KDC again.
      await kdc.addPrincipal(SERVICE);
      let coracle: CoracleServer | undefined;
      try {
        // The realm's krb5.conf, as ZooKeeper gets it: its default_realm is the one DEFAULT maps.
        coracle = await startCoracle(['--zk-sasl-users-file', realm.jaas.server], undefined, kdc.env);
        const ours = await scenarios(realm, `localhost:${coracle.zkPort}`, !kazooSkip);
        // Every scenario that differs, not just the first: one run shows the whole picture.
        const differences: string[] = [];
        const compare = (what: string, got: unknown, want: unknown): void => {
          try {
            assert.deepEqual(got, want, `${what}: Coracle (actual) vs ZooKeeper (expected)`);
          } catch (err) {
            differences.push((err as Error).message);
          }
        };
        for (const k of ['alice', 'bob', 'anonymous', 'staleKey'] as const) {
          compare(`zkCli ${k}`, ours.zkCli[k], ref.zkCli[k]);
          if (ref.kazoo) compare(`kazoo ${k}`, ours.kazoo?.[k], ref.kazoo[k]);
        }
        assert.equal(differences.length, 0, `${differences.length} scenario(s) differ:\n\n${differences.join('\n\n')}`);
        assertOutcome(ours, 'Coracle', realm);
      } finally {
        await coracle?.stop();
      }
    });
  } finally {
    await kdc.stop();
  }
});

/**
 * The RFC 8009 encryption types, which FreeIPA and newer MIT realms issue: a realm whose keys and
 * tickets are all of one of them, alice through zkCli and kazoo against Coracle (ZooKeeper's
 * answer to the same clients is the first test's). The KDC's log proves the ticket's type. The
 * second realm's Coracle also runs with `--zk-kerberos-remove-realm-from-principal`: alice is
 * then `sasl:alice`, in whoami and in the ACL that lets her read.
 */
test('SASL GSSAPI with aes256-cts-hmac-sha384-192 and aes128-cts-hmac-sha256-128 tickets (RFC 8009)', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zkCli') ?? kdcSkip();
  if (skip) return t.skip(skip);
  const withKazoo = !kazooGssapiSkip();
  for (const [enctype, removeRealm] of [['aes256-cts-hmac-sha384-192', false], ['aes128-cts-hmac-sha256-128', true]] as const) {
    const kdc = await startKdc({ enctypes: [enctype] });
    let coracle: CoracleServer | undefined;
    try {
      const realm = await makeRealm(kdc);
      coracle = await startCoracle(['--zk-sasl-users-file', realm.jaas.server, ...(removeRealm ? ['--zk-kerberos-remove-realm-from-principal'] : [])], undefined, kdc.env);
      const connect = `localhost:${coracle.zkPort}`;
      const id = removeRealm ? 'alice' : realm.alice;
      const since = kdc.process.lineCount;
      const alice = authTranscript(await zkCliAs(realm, realm.jaas.alice, connect, ['whoami', `create /e data sasl:${id}:cdrwa`, 'get /e']));
      await kdc.process.waitForLine(new RegExp(`TGS_REQ .* ISSUE: .*tkt=${enctype}.* ${realm.alice} for ${SERVICE}@`), 5000, since);
      assert.deepEqual(alice.events, ['SyncConnected', 'SaslAuthenticated'], `${enctype}: zkCli\n${alice.output}`);
      assert.ok(alice.output.includes(`sasl: ${id}\n`) && alice.output.includes('Created /e\ndata'), `${enctype}: zkCli\n${alice.output}`);
      if (withKazoo) {
        const kz = await kazooAs(realm, 'alice', connect, 'c.start(timeout=10)\nresult = c.get(\'/e\')[0]');
        assert.equal(kz, 'data', `${enctype}: kazoo`);
      }
    } finally {
      await coracle?.stop();
      await kdc.stop();
    }
  }
});
