/**
 * Kerberos principal → `sasl` identity by `zookeeper.security.auth_to_local` rules and the
 * remove-host/remove-realm settings (zkproxy/session/kerberos/auth-to-local.ts,
 * principal-identity.ts, krb5-conf.ts), case by case as ZooKeeper's KerberosName and
 * SaslServerCallbackHandler decide them: which rule applies, what it makes, and when the whole
 * principal is kept instead. (Real clients against a real ZooKeeper and Coracle:
 * test/interop/zk-kerberos-auth-to-local.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthToLocal, AuthToLocalError } from '../../../../../zkproxy/session/kerberos/auth-to-local';
import { identityOf } from '../../../../../zkproxy/session/kerberos/principal-identity';
import { defaultRealmOf } from '../../../../../zkproxy/session/kerberos/krb5-conf';

const RULES = AuthToLocal.parse(`
  RULE:[1:$1@$0](.*@FOO)s/@.*//
  RULE:[2:$1](johndoe)s/^.*$/guest/
  RULE:[2:$1;$2](^.*;admin$)s/;admin$//
  RULE:[2:$2](root)
  DEFAULT`);

function short(rules: AuthToLocal, principal: string, defaultRealm = 'APACHE.ORG'): string {
  const [name, realm] = principal.split('@') as [string, string];
  const r = rules.shortName({ realm, components: name.split('/') }, defaultRealm);
  return 'name' in r ? r.name : `error: ${r.error}`;
}

test('the first rule that applies gives the short name', () => {
  assert.equal(short(RULES, 'john/admin@APACHE.ORG'), 'john', 'two components, matched, rewritten');
  assert.equal(short(RULES, 'john/admin@FOO.COM'), 'john', 'any realm');
  assert.equal(short(RULES, 'joe@FOO'), 'joe', '$1@$0, the realm stripped');
  assert.equal(short(RULES, 'joe/root@FOO'), 'root', 'a rule without a rewrite');
  assert.equal(short(RULES, 'johndoe/zoo@FOO'), 'guest');
  assert.equal(short(RULES, 'joe@APACHE.ORG'), 'joe', 'DEFAULT, the default realm');
  assert.match(short(RULES, 'joe@OTHER'), /^error: no auth_to_local rule applied to joe@OTHER/, 'DEFAULT maps the default realm only');
  assert.match(short(RULES, 'joe/x@OTHER'), /^error: no auth_to_local rule/);
});

test('what a rule makes: group references, g, non-simple names, bad indexes', () => {
  assert.equal(short(AuthToLocal.parse('RULE:[1:$1](.*)s/a/b/g'), 'banana@X'), 'bbnbnb');
  assert.equal(short(AuthToLocal.parse('RULE:[1:$1](.*)s/a/b/'), 'banana@X'), 'bbnana', 'the first match only');
  assert.equal(short(AuthToLocal.parse('RULE:[1:$1](.*)s/(.*)/u_$1/'), 'joe@X'), 'u_joe');
  assert.equal(short(AuthToLocal.parse('RULE:[1:$1](.*)s/(.*)/d\\$1/'), 'joe@X'), 'd$1', 'an escaped $ is literal');
  assert.equal(short(AuthToLocal.parse('RULE:[1:x$1y$0z]'), 'joe@R'), 'xjoeyRz');
  // A name with / or @ stops the search: DEFAULT after it is not tried.
  assert.match(short(AuthToLocal.parse('RULE:[1:$1@$0] DEFAULT'), 'joe@APACHE.ORG'), /^error: non-simple name joe@APACHE\.ORG after auth_to_local rule RULE:\[1:\$1@\$0\]/);
  assert.match(short(AuthToLocal.parse('RULE:[1:$2]'), 'joe@R'), /^error: index 2 from \$2 is outside of the valid range 0 to 1/);
  assert.match(short(AuthToLocal.parse('RULE:[1:$]'), 'joe@R'), /^error: index/);
  // (match) must match the whole name.
  assert.match(short(AuthToLocal.parse('RULE:[1:$1](jo)'), 'joe@R'), /^error: no auth_to_local rule/);
});

test('rules that do not parse are refused', () => {
  for (const bad of ['RULE:[1:$1', 'FOO', 'RULE:[a:$1]', 'RULE:[:$1]', 'DEFAULT RULE:[1:$1](x', 'RULE:[1:$1](x)s/(/y/', 'RULE:[1:$1](x)s/x/$y/']) {
    assert.throws(() => AuthToLocal.parse(bad), AuthToLocalError, bad);
  }
  assert.doesNotThrow(() => AuthToLocal.parse(''), 'no rules: nothing maps');
  assert.match(short(AuthToLocal.parse(''), 'joe@APACHE.ORG'), /^error/);
});

test('the identity: the short name, then the host and the realm unless removed; the whole principal when unmapped', () => {
  const kafka = 'kafka/h1.example.com@EXAMPLE.COM';
  const rules = AuthToLocal.parse('RULE:[2:$1@$0](kafka@EXAMPLE.COM)s/kafka@.*/broker/');
  assert.deepEqual(identityOf(kafka, { rules }), { identity: 'broker/h1.example.com@EXAMPLE.COM' }, 'host and realm are added back');
  assert.deepEqual(identityOf(kafka, { rules, removeHost: true, removeRealm: true }), { identity: 'broker' });
  const bob = identityOf('bob@EXAMPLE.COM', { rules, removeRealm: true });
  assert.equal(bob.identity, 'bob@EXAMPLE.COM', 'no rule: the whole principal, removeRealm notwithstanding');
  assert.match(bob.warning ?? '', /no auth_to_local rule applied to bob@EXAMPLE\.COM/);
  // DEFAULT (the default rules) with the default realm, and with another.
  assert.deepEqual(identityOf('alice@EXAMPLE.COM', { removeRealm: true, defaultRealm: 'EXAMPLE.COM' }), { identity: 'alice' });
  assert.equal(identityOf('alice@PARTNER.ORG', { removeRealm: true, defaultRealm: 'EXAMPLE.COM' }).identity, 'alice@PARTNER.ORG');
  assert.deepEqual(identityOf('alice@PARTNER.ORG', { removeRealm: true }), { identity: 'alice' }, 'no default realm known: the principal\'s own');
  assert.equal(identityOf('a/b/c@R', {}).identity, 'a/b/c@R', 'three components: kept whole');
});

test("krb5.conf's default_realm, from [libdefaults] only", () => {
  const conf = '# comment\n[realms]\n default_realm = NOT.THIS\n[libdefaults]\n  dns_lookup_realm = false\n  default_realm = EXAMPLE.COM ; trailing\n';
  assert.equal(defaultRealmOf(conf), 'EXAMPLE.COM');
  assert.equal(defaultRealmOf('[libdefaults]\n forwardable = true\n'), undefined);
});
