/**
 * Kerberos principals mapped to ZooKeeper `sasl` identities by Hadoop-style auth_to_local rules,
 * run the same way against a real ZooKeeper 3.8 and against Coracle, identities and transcripts
 * compared. ZooKeeper takes the rules from `-Dzookeeper.security.auth_to_local` and the realm
 * switch from `-Dzookeeper.kerberos.removeRealmFromPrincipal`; Coracle from
 * `--zk-kerberos-auth-to-local` and `--zk-kerberos-remove-realm-from-principal`.
 *
 * What it proves (ZooKeeper's answers are asserted too: they prove the harness and the reading of
 * SaslServerCallbackHandler + KerberosName that the expectations encode):
 * - a rule that matches and yields a simple name maps the principal: alice is `admin`, and with
 *   the realm kept, `admin@CORACLE.TEST` (the realm is appended to the MAPPED name);
 * - a principal no rule matches keeps its FULL principal as identity, even with the realm switch
 *   on (bob is `bob@CORACLE.TEST`): ZooKeeper logs the failure and leaves the authorized id as
 *   the authentication id;
 * - a rule whose result still holds '@' (carol's `s/carol/c/` on `$1@$0`) is a failure too, and
 *   is not followed by the next rule: carol is `carol@CORACLE.TEST`, not `c`;
 * - the identity is what ACLs see: alice, as `admin`, creates /a2l with `sasl:admin:cdrwa` and
 *   reads it; bob and carol get "Insufficient permission"; bob owns a node under
 *   `sasl:bob@CORACLE.TEST` although the realm switch is on.
 * And Coracle refuses to start with a malformed rules string, naming the flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CORACLE_BIN, type CoracleServer, startCoracle } from '../support/coracle-server';
import { type Kdc, kdcSkip, startKdc } from '../support/kdc';
import { KERBEROS_SERVICE as SERVICE, SASL_PROVIDER_CONFIG as SASL_PROVIDER, kdcFile, krb5Section, zkCliKerberosFlags } from '../support/kerberos-jaas';
import { javaPath, requirePeer } from '../support/peers';
import { freePorts, releasePorts } from '../support/ports';
import { runCommand } from '../support/run-command';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { type AuthTranscript, authTranscript, zkCliWithFlags } from '../support/zk-cli-auth';
import { type ZookeeperPeer, startZookeeper, zookeeperClasspath } from '../support/zookeeper-peer';

/**
 * The rules under test. alice's maps the whole `alice@REALM` to `admin` (a simple name). carol's
 * rewrites only the user part, so its result `c@CORACLE.TEST` still holds '@': KerberosName
 * rejects it rather than trying the next rule. bob matches no rule, and there is no DEFAULT.
 */
const RULES = 'RULE:[1:$1@$0](alice@.*)s/alice@.*/admin/ RULE:[1:$1@$0](carol@.*)s/carol/c/';

const USERS = ['alice', 'bob', 'carol'] as const;
type User = (typeof USERS)[number];

/** The realm's JAAS files: the servers' `Server` section and one `Client` file per user. */
interface Realm {
  kdc: Kdc;
  serverJaas: string;
  clientJaas: Record<User, string>;
}

async function makeRealm(kdc: Kdc): Promise<Realm> {
  const file = (name: string, text: string): string => kdcFile(kdc, name, text);
  const serverKeytab = await kdc.addPrincipal(SERVICE);
  const clientJaas = {} as Record<User, string>;
  for (const u of USERS) clientJaas[u] = file(`${u}-jaas.conf`, krb5Section('Client', await kdc.addPrincipal(u), `${u}@${kdc.realm}`));
  return { kdc, serverJaas: file('server-jaas.conf', krb5Section('Server', serverKeytab, `${SERVICE}@${kdc.realm}`)), clientJaas };
}

/** zkCli as `user` (zkCliKerberosFlags). Sequential calls only (zkCliWithFlags sets CLIENT_JVMFLAGS around each). */
async function zkCliAs(realm: Realm, user: User, connect: string, commands: string[]): Promise<AuthTranscript> {
  return authTranscript(await zkCliWithFlags(connect, commands, zkCliKerberosFlags(realm.kdc.krb5Conf, realm.clientJaas[user])));
}

/** One setting of the realm switch (the rules are always {@link RULES}). */
interface Case {
  name: string;
  removeRealm: boolean;
  /** Also run the ACL steps (once is enough: they depend on the identity only). */
  acl: boolean;
}
const CASES: readonly Case[] = [
  { name: 'rules + removeRealmFromPrincipal', removeRealm: true, acl: true },
  { name: 'rules, realm kept', removeRealm: false, acl: false },
];

/** The identities ZooKeeper 3.8 gives (asserted on its own run, then required of Coracle). */
function expectedIds(c: Case, realm: string): Record<User, string> {
  return { alice: c.removeRealm ? 'admin' : `admin@${realm}`, bob: `bob@${realm}`, carol: `carol@${realm}` };
}

/** Each user's transcript on one server, for one case. */
type Outcome = Record<User, AuthTranscript>;

async function runCase(realm: Realm, c: Case, connect: string): Promise<Outcome> {
  const bob = `bob@${realm.kdc.realm}`;
  return {
    alice: await zkCliAs(realm, 'alice', connect, ['whoami', ...(c.acl ? ['create /a2l data sasl:admin:cdrwa', 'getAcl /a2l', 'get /a2l'] : [])]),
    bob: await zkCliAs(realm, 'bob', connect, ['whoami', ...(c.acl ? ['get /a2l', `create /bob b sasl:${bob}:cdrwa`, 'get /bob'] : [])]),
    carol: await zkCliAs(realm, 'carol', connect, ['whoami', ...(c.acl ? ['get /a2l'] : [])]),
  };
}

/** The `sasl: <id>` line of a transcript's whoami (undefined when there is none). */
function saslId(t: AuthTranscript): string | undefined {
  return /^sasl: (.*)$/m.exec(t.output)?.[1];
}

/** The case's expectations on one server's outcome. */
function assertOutcome(o: Outcome, c: Case, server: string, realm: string): void {
  const ids = expectedIds(c, realm);
  for (const u of USERS) {
    assert.deepEqual(o[u].events, ['SyncConnected', 'SaslAuthenticated'], `${server} ${c.name}: ${u} events\n${o[u].output}`);
    assert.equal(saslId(o[u]), ids[u], `${server} ${c.name}: ${u}'s sasl identity\n${o[u].output}`);
  }
  if (!c.acl) return;
  assert.ok(o.alice.output.includes("Created /a2l\n'sasl,'admin\n: cdrwa\ndata"), `${server} ${c.name}: alice (admin)\n${o.alice.output}`);
  assert.ok(o.bob.output.includes('Insufficient permission : /a2l\nCreated /bob\nb'), `${server} ${c.name}: bob\n${o.bob.output}`);
  assert.ok(o.carol.output.includes('Insufficient permission : /a2l'), `${server} ${c.name}: carol\n${o.carol.output}`);
}

test('auth_to_local rules map Kerberos principals to sasl identities as in ZooKeeper 3.8', { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('zkCli', 'zookeeper') ?? kdcSkip();
  if (skip) return t.skip(skip);
  // Both servers listen on 127.0.0.1 only, and clients connect to `localhost`.
  const addrs = (await lookup('localhost', { all: true })).map((a) => a.address);
  assert.ok(addrs.includes('127.0.0.1'), `localhost must resolve to 127.0.0.1 (it resolves to ${addrs.join(', ')})`);
  const kdc = await startKdc();
  try {
    const realm = await makeRealm(kdc);
    const ref = new Map<string, Outcome>();

    await t.test('ZooKeeper 3.8 (proves the harness and the expected identities)', async () => {
      for (const c of CASES) {
        let zk: ZookeeperPeer | undefined;
        try {
          zk = await startZookeeper({
            config: SASL_PROVIDER, logLevel: 'warn',
            jvmArgs: [
              `-Djava.security.auth.login.config=${realm.serverJaas}`, `-Djava.security.krb5.conf=${kdc.krb5Conf}`,
              `-Dzookeeper.security.auth_to_local=${RULES}`, ...(c.removeRealm ? ['-Dzookeeper.kerberos.removeRealmFromPrincipal=true'] : []),
            ],
          });
          const outcome = await runCase(realm, c, `localhost:${zk.port}`);
          assertOutcome(outcome, c, 'ZooKeeper', kdc.realm);
          ref.set(c.name, outcome);
        } finally {
          await zk?.stop();
        }
      }
    });

    await t.test('Coracle, case by case against ZooKeeper', async (st) => {
      if (ref.size !== CASES.length) return st.skip('the ZooKeeper half failed: nothing to compare with');
      for (const c of CASES) {
        let coracle: CoracleServer | undefined;
        try {
          coracle = await startCoracle([
            '--zk-sasl-users-file', realm.serverJaas, '--zk-kerberos-auth-to-local', RULES,
            ...(c.removeRealm ? ['--zk-kerberos-remove-realm-from-principal'] : []),
          // The realm's krb5.conf, as ZooKeeper gets it (its default realm is DEFAULT's).
          ], undefined, kdc.env);
          const ours = await runCase(realm, c, `localhost:${coracle.zkPort}`);
          const theirs = ref.get(c.name)!;
          // The identities first: when they differ, that is the message worth reading.
          const idsOf = (o: Outcome): Record<User, string | undefined> => ({ alice: saslId(o.alice), bob: saslId(o.bob), carol: saslId(o.carol) });
          assert.deepEqual(idsOf(ours), idsOf(theirs), `${c.name}: identities, Coracle (actual) vs ZooKeeper (expected)`);
          for (const u of USERS) assert.deepEqual(ours[u], theirs[u], `${c.name}: ${u}'s transcript, Coracle (actual) vs ZooKeeper (expected)`);
          assertOutcome(ours, c, 'Coracle', kdc.realm);
        } finally {
          await coracle?.stop();
        }
      }
    });
  } finally {
    await kdc.stop();
  }
});

/**
 * What ZooKeeper's own KerberosName makes of `rules`: a one-file Java program (run by Java's
 * source launcher on ZooKeeper's classpath) maps alice@CORACLE.TEST with the rules set as
 * ZooKeeper reads them, from the system property, at class initialization.
 */
async function zookeeperShortName(dir: string, rules: string): Promise<{ code: number | null; output: string }> {
  const src = path.join(dir, 'ShortName.java');
  fs.writeFileSync(src, 'public class ShortName { public static void main(String[] a) throws Exception {\n'
    + '  System.out.println(new org.apache.zookeeper.server.auth.KerberosName("alice@CORACLE.TEST").getShortName()); } }\n');
  const r = await runCommand(javaPath()!, [
    '-XX:-UsePerfData', `-Dzookeeper.security.auth_to_local=${rules}`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
    '-cp', zookeeperClasspath().join(':'), src,
  ], { timeoutMs: 30_000 });
  assert.equal(r.timedOut, false, `java ShortName timed out:\n${r.stderr}`);
  return { code: r.code, output: `${r.stdout}${r.stderr}` };
}

/** Rules strings that do not parse (ZooKeeper's parser: each rule must match from where the last ended). */
const MALFORMED = ['RULE:[x', 'NOT_A_RULE', 'DEFAULT RULE:[1:$1](a.*)s/a/b'];

/**
 * A malformed rules string is a usage error at start; ZooKeeper refuses the same strings (its
 * KerberosName's initializer throws "Invalid rule", though only at the first SASL login). An
 * "unknown flag" message would name the flag too, so it is ruled out: the flag must be known and
 * its value refused.
 */
test('a malformed --zk-kerberos-auth-to-local is refused at start, naming the flag', { timeout: 120_000 }, async (t) => {
  const dir = createTempDir('coracle-a2l-');
  try {
    if (requirePeer('zookeeper')) t.diagnostic('ZooKeeper jars or java missing: its verdict on the rules is not checked');
    else {
      // The control: the rules of the first test parse, and map alice as that test expects.
      const good = await zookeeperShortName(dir, RULES);
      assert.deepEqual([good.code, good.output.trim()], [0, 'admin'], `ZooKeeper's KerberosName with the valid rules:\n${good.output}`);
      for (const rules of MALFORMED) {
        const zk = await zookeeperShortName(dir, rules);
        assert.notEqual(zk.code, 0, `ZooKeeper's KerberosName accepted '${rules}':\n${zk.output}`);
        assert.match(zk.output, /Invalid rule/, `ZooKeeper's KerberosName on '${rules}'`);
      }
    }
    for (const rules of MALFORMED) {
      const [client, zk] = (await freePorts(2)) as [number, number];
      try {
        // Own free ports: should the value be accepted, Coracle would start and must not take
        // the default ones; runCommand's bound then ends it and the test fails on `timedOut`.
        const r = await runCommand(process.execPath, [
          CORACLE_BIN, '--data-dir', path.join(dir, 'data'), '--listen-client-urls', `http://127.0.0.1:${client}`,
          '--zk-listen', `127.0.0.1:${zk}`, '--log-level', 'error', '--zk-kerberos-auth-to-local', rules,
        ], { timeoutMs: 15_000 });
        const output = `${r.stderr}${r.stdout}`;
        assert.equal(r.timedOut, false, `coracle started with rules '${rules}' instead of refusing them:\n${output}`);
        assert.notEqual(r.code, 0, `coracle with rules '${rules}' exited 0:\n${output}`);
        assert.doesNotMatch(output, /unknown flag/, `the flag itself is not known:\n${output}`);
        assert.match(output, /zk-kerberos-auth-to-local/, `the message names the flag:\n${output}`);
      } finally {
        releasePorts([client, zk]);
      }
    }
  } finally {
    removeTempDir(dir);
  }
});
