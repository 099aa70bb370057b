/**
 * `coracle zk-proxy` flags (bin/zk-proxy-flags.ts over zkproxy/zk-flags.ts), and the same
 * `--zk-*` table in the embedded server's flags (bin/flags.ts): one parser, one mapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZkProxyFlags } from '../../../bin/zk-proxy-flags';
import { parseFlags, UsageError } from '../../../bin/flags';
import { zkOptionsFromFlags } from '../../../zkproxy/index';
import { EtcdToken, loadEtcdCredentials } from '../../../zkproxy/backend/etcd-credentials';
import { AuthToLocal } from '../../../zkproxy/session/kerberos/auth-to-local';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseZkProxyFlags(argv, env);

test('flags in both --a=b and --a b forms', () => {
  const o = parse(['--endpoints=http://127.0.0.1:2379,http://127.0.0.1:22379', '--zk-listen', '0.0.0.0:2182', '--zk-tick-time=1000', '--zk-max-buffer', '4096', '--zk-ttl-nodes=false', '--zk-notification-zxid', '--log-level=debug']);
  assert.deepEqual(o.endpoints, ['http://127.0.0.1:2379', 'http://127.0.0.1:22379']);
  assert.equal(o.logLevel, 'debug');
  assert.equal(o.zk.host, '0.0.0.0');
  assert.equal(o.zk.port, 2182);
  assert.equal(o.zk.tickTime, 1000);
  assert.equal(o.zk.maxFrame, 4096);
  assert.equal(o.zk.ttlEnabled, false);
  assert.equal(o.zk.notificationZxid, true);
});

test('IPv6 listen address, defaults and environment forms', () => {
  const o = parse(['--zk-listen=[::1]:2181']);
  assert.equal(o.zk.host, '::1');
  assert.deepEqual(o.endpoints, ['http://127.0.0.1:2379']);
  assert.equal(o.zk.keyPrefix, '/zk/');
  assert.equal(o.zk.minSessionTimeout, undefined);
  assert.equal(parse([], { ETCD_ZK_TICK_TIME: '500' }).zk.tickTime, 500);
  assert.equal(parse(['--zk-tick-time=700'], { ETCD_ZK_TICK_TIME: '500' }).zk.tickTime, 700, 'the command line wins');
});

test('bad flags are usage errors that say what to do', () => {
  assert.throws(() => parse(['--nope=1']), /unknown flag --nope/);
  assert.throws(() => parse(['--zk-tick-time=abc']), /non-negative integer/);
  assert.throws(() => parse(['--zk-min-session-timeout=9000', '--zk-max-session-timeout=4000']), /must not exceed/);
  assert.throws(() => parse(['--zk-listen']), /needs a value/);
  assert.throws(() => parse(['--zk-listen=2181']), /want host:port/);
  assert.throws(() => parse(['--zk-listen=127.0.0.1:99999']), /want host:port/);
  assert.throws(() => parse(['--zk-listen=']), /needs a --zk-listen or --zk-secure-listen address/);
  assert.throws(() => parse(['--endpoints=']), /at least one etcd client URL/);
  assert.throws(() => parse(['--zk-max-buffer=10']), UsageError);
});

test('SASL flags: users file, booleans bare or with a value, super users, Kerberos principal mapping', () => {
  const o = parse(['--zk-sasl-users-file', '/etc/zk/jaas.conf', '--zk-sasl-required', '--zk-sasl-super-user=admin, ops', '--zk-sasl-allow-failed-clients=false', '--zk-kerberos-remove-host-from-principal']);
  assert.deepEqual(o.zk.sasl, { usersFile: '/etc/zk/jaas.conf', required: true, superUsers: ['admin', 'ops'], allowFailedClients: false, kerberosRemoveHost: true, kerberosRemoveRealm: false, kerberosAuthToLocal: AuthToLocal.parse('DEFAULT') });
  assert.equal(parse(['--zk-sasl-allow-failed-clients']).zk.sasl.allowFailedClients, true);
  assert.equal(parse(['--zk-kerberos-remove-realm-from-principal=true']).zk.sasl.kerberosRemoveRealm, true);
  assert.deepEqual(parse([]).zk.sasl, { usersFile: undefined, required: false, allowFailedClients: false, superUsers: [], kerberosRemoveHost: false, kerberosRemoveRealm: false, kerberosAuthToLocal: AuthToLocal.parse('DEFAULT') });
  assert.throws(() => parse(['--zk-sasl-required=yes']), /invalid boolean 'yes'/);
  const rules = parse(['--zk-kerberos-auth-to-local', 'RULE:[2:$1@$0](kafka@.*)s/@.*// DEFAULT']).zk.sasl.kerberosAuthToLocal!;
  assert.deepEqual(rules.shortName({ realm: 'X', components: ['kafka', 'h1'] }, 'Y'), { name: 'kafka' });
  assert.throws(() => parse(['--zk-kerberos-auth-to-local', 'RULE:[1:$1']), /--zk-kerberos-auth-to-local: invalid rule: RULE:\[1:\$1/);
});

test('the embedded server maps the same flags to the same options, and may turn the front end off', () => {
  const argv = ['--zk-listen=127.0.0.1:3181', '--zk-tick-time=1000', '--zk-min-session-timeout=3000', '--zk-super-digest=super:abc'];
  assert.deepEqual(zkOptionsFromFlags(parseFlags(argv, {})), parse(argv).zk);
  assert.equal(zkOptionsFromFlags(parseFlags(['--zk-listen='], {})), undefined);
  assert.throws(() => parseFlags(['--zk-min-session-timeout=9000', '--zk-max-session-timeout=4000'], {}), UsageError);
});

test('the secure port: its address, TLS files and client-auth mode; only it when --zk-listen is empty', () => {
  const o = parse(['--zk-secure-listen=127.0.0.1:2281', '--zk-tls-cert-file=s.pem', '--zk-tls-key-file=s.key', '--zk-tls-trusted-ca-file=ca.pem', '--zk-tls-client-auth=want', '--zk-x509-super-user=CN=admin']);
  assert.equal(o.zk.plain, true);
  assert.deepEqual(o.zk.secure, { host: '127.0.0.1', port: 2281 });
  assert.deepEqual(o.zk.tls, { certFile: 's.pem', keyFile: 's.key', trustedCaFile: 'ca.pem', crlFile: undefined, clientAuth: 'want', superUser: 'CN=admin', reloadIntervalMs: 10000 });
  assert.equal(parse([]).zk.secure, undefined, 'no secure port by default');
  assert.equal(parse([]).zk.tls, undefined, 'no TLS files read without a port that needs them');
  assert.equal(parse(['--zk-secure-listen=127.0.0.1:2281']).zk.tls?.clientAuth, 'need', "ZooKeeper's ssl.clientAuth default");
  const only = parse(['--zk-listen=', '--zk-secure-listen=[::1]:2281']);
  assert.equal(only.zk.plain, false);
  assert.equal(only.zk.secure?.host, '::1');
  assert.throws(() => parse(['--zk-secure-listen=2281']), /invalid --zk-secure-listen/);
  assert.throws(() => parse(['--zk-tls-client-auth=maybe']), /need, want or none/);
});

test('port unification, the CRL file and the reload interval', () => {
  const o = parse(['--zk-port-unification', '--zk-tls-cert-file=s.pem', '--zk-tls-key-file=s.key', '--zk-tls-client-auth=none', '--zk-tls-crl-file=crl.pem', '--zk-tls-reload-interval=0']);
  assert.equal(o.zk.portUnification, true);
  assert.equal(o.zk.secure, undefined, 'unification needs no secure port');
  assert.deepEqual(o.zk.tls, { certFile: 's.pem', keyFile: 's.key', trustedCaFile: undefined, crlFile: 'crl.pem', clientAuth: 'none', superUser: undefined, reloadIntervalMs: 0 });
  assert.equal(parse([]).zk.portUnification, false, 'off by default, as client.portUnification');
  assert.throws(() => parse(['--zk-port-unification', '--zk-listen=', '--zk-secure-listen=127.0.0.1:2281']), /--zk-port-unification needs the plain port/);
  assert.throws(() => parse(['--zk-secure-listen=127.0.0.1:2281', '--zk-tls-reload-interval=-5']), /--zk-tls-reload-interval: want a non-negative integer/);
});

test('read-only mode: off by default, as readonlymode.enabled; the embedded server maps the flag', () => {
  assert.equal(zkOptionsFromFlags(parseFlags([], {}))?.readOnlyMode, false);
  assert.equal(zkOptionsFromFlags(parseFlags(['--zk-read-only-mode'], {}))?.readOnlyMode, true);
});

test('etcd credentials: etcdctl flag names; https implies TLS; the user as name:password or with --password', () => {
  assert.deepEqual(parse([]).etcd, { cacert: undefined, cert: undefined, key: undefined, user: undefined, password: undefined, https: false });
  const o = parse(['--endpoints=https://127.0.0.1:2379,https://127.0.0.1:22379', '--cacert=ca.pem', '--cert=c.pem', '--key=c.key', '--user=root:pw']);
  assert.deepEqual(o.etcd, { cacert: 'ca.pem', cert: 'c.pem', key: 'c.key', user: 'root:pw', password: undefined, https: true });
  assert.throws(() => parse(['--endpoints=https://127.0.0.1:2379,http://127.0.0.1:22379']), /mixes https:\/\/ and plaintext/);
  assert.deepEqual(loadEtcdCredentials({ user: 'root:p:w', https: false }), { tls: undefined, user: { name: 'root', password: 'p:w' } });
  assert.deepEqual(loadEtcdCredentials({ user: 'root', password: 'pw', https: true }), { tls: { ca: undefined, cert: undefined, key: undefined }, user: { name: 'root', password: 'pw' } });
  assert.throws(() => loadEtcdCredentials({ user: 'root', https: false }), /--user root needs a password/);
  assert.throws(() => loadEtcdCredentials({ cert: 'c.pem', https: true }), /--cert and --key go together/);
  assert.throws(() => loadEtcdCredentials({ cacert: '/nonexistent/ca.pem', https: true }), /cannot read --cacert \/nonexistent\/ca\.pem/);
});

test('an etcd token is fetched once for concurrent callers and again only after etcd refused it', async () => {
  let calls = 0;
  const token = new EtcdToken(async () => `t${++calls}`);
  assert.deepEqual(await Promise.all([token.get(), token.get()]), ['t1', 't1']);
  token.invalidate('t0');
  assert.equal(await token.get(), 't1', 'a stale refusal does not drop the newer token');
  token.invalidate('t1');
  assert.equal(await token.get(), 't2');
  assert.equal(calls, 2);
});

test('--zk-admin-listen serves the AdminServer; off by default', () => {
  assert.equal(parse([]).zk.admin, undefined, 'no AdminServer unless asked (ZooKeeper would take 8080)');
  assert.deepEqual(parse(['--zk-admin-listen=127.0.0.1:8080']).zk.admin, { host: '127.0.0.1', port: 8080, commandUrl: '/commands' });
  assert.deepEqual(parse(['--zk-admin-listen=[::1]:9090', '--zk-admin-command-url=/zk']).zk.admin, { host: '::1', port: 9090, commandUrl: '/zk' });
  assert.throws(() => parse(['--zk-admin-listen=8080']), /invalid --zk-admin-listen '8080'/);
});
