/** The JAAS configuration file format and the DIGEST-MD5 users of its Server section. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JaasConfigError, digestUsers, parseJaasConfig } from '../../../../zkproxy/session/jaas-config';

const ZK_JAAS = `
// ZooKeeper server and client sections, as the ZooKeeper and Kafka guides write them.
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret"   /* inline comment */
       user_kafka="k\\"q\\\\z";
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
KafkaServer { org.apache.kafka.common.security.plain.PlainLoginModule required username=admin password=x; };
`;

test('parses sections, modules, flags and options; comments and escapes', () => {
  const c = parseJaasConfig(ZK_JAAS);
  assert.deepEqual([...c.keys()], ['Server', 'Client', 'KafkaServer']);
  const server = c.get('Server')!;
  assert.equal(server.length, 1);
  assert.equal(server[0]!.loginModule, 'org.apache.zookeeper.server.auth.DigestLoginModule');
  assert.equal(server[0]!.flag, 'required');
  assert.equal(server[0]!.options.get('user_kafka'), 'k"q\\z');
  assert.equal(c.get('KafkaServer')![0]!.options.get('username'), 'admin', 'bare (unquoted) values');
});

test('digestUsers: the user_<name> options of every module of the section', () => {
  const users = digestUsers(parseJaasConfig(ZK_JAAS));
  assert.deepEqual([...users], [['super', 'adminsecret'], ['bob', 'bobsecret'], ['kafka', 'k"q\\z']]);
  const two = parseJaasConfig('S { a.B optional user_x="1"; c.D Sufficient user_y="2" other="z"; };');
  assert.deepEqual([...digestUsers(two, 'S')], [['x', '1'], ['y', '2']]);
  assert.equal(two.get('S')![1]!.flag, 'sufficient', 'flags are case-insensitive');
  const passwordWithSpecials = parseJaasConfig('Server { M required user_a="p w;{}=//x"; };');
  assert.equal(digestUsers(passwordWithSpecials).get('a'), 'p w;{}=//x');
});

test('an empty file and an empty section parse', () => {
  assert.equal(parseJaasConfig('  // nothing\n/* at all */\n').size, 0);
  assert.deepEqual(parseJaasConfig('Server { };').get('Server'), []);
});

test('malformed files are errors naming the line', () => {
  const cases: [string, RegExp][] = [
    ['Server {\n M required user_a="x"\n};', /:3: expected an option name or ';', found '}'/],
    ['Server {\n M mandatory user_a="x";\n};', /:2: expected a control flag .* found 'mandatory'/],
    ['Server {\n M required user_a=;\n};', /:2: expected the value of user_a, found ';'/],
    ['Server {\n M required user_a "x";\n};', /:2: expected '=', found 'x'/],
    ['Server {\n M required user_a="x;\n};', /:2: unterminated quoted string/],
    ['Server {\n M required user_a="x";\n}', /unexpected end of file, expected ';'/],
    ['Server \n M required user_a="x";\n};', /:2: expected '\{', found 'M'/],
    ['/* open\n\nServer {};', /:1: unterminated \/\* comment/],
    ['Server {};\nServer {};', /:2: section Server appears twice/],
    ['{ };', /:1: expected a section name, found '\{'/],
    ['Server { "M" required; };', /expected a login module class, found 'M'/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseJaasConfig(text, 'jaas.conf'), (e: unknown) => e instanceof JaasConfigError && /^jaas\.conf/.test(e.message) && re.test(e.message), text);
  }
});

test('digestUsers: a missing section or a section without any login is an error that says why', () => {
  assert.throws(() => digestUsers(parseJaasConfig('Client { M required username="bob"; };'), 'Server', 'f'), /f: no 'Server' section \(found: Client\)/);
  assert.throws(() => digestUsers(parseJaasConfig(''), 'Server', 'f'), /f: no 'Server' section$/);
  const krb = 'Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/k" principal="zookeeper/h@R"; };';
  assert.equal(digestUsers(parseJaasConfig(krb), 'Server', 'f', true).size, 0, 'a Kerberos-only section has no DIGEST-MD5 users');
  assert.throws(() => digestUsers(parseJaasConfig('Server { M required a="b"; };')), /defines no SASL login: give it DIGEST-MD5 users .* or a Kerberos service key/);
  assert.throws(() => digestUsers(parseJaasConfig('Server { M required user_="x"; };')), /no user name/);
});
