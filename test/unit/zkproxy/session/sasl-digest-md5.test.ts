/** DIGEST-MD5 server side (RFC 2831) as ZooKeeper's JDK SASL server runs it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DigestMd5Error, DigestMd5Server, DigestParams, MAX_DIGEST_RESPONSE_BYTES, ZK_SASL_DIGEST_URI, ZK_SASL_REALM,
  challengeToken, credentialBytes, parseDirectives, responseValue, verifyResponse,
} from '../../../../zkproxy/session/sasl-digest-md5';

/** RFC 2831 §4, the two worked examples (user chris, password secret). */
const RFC_EXAMPLES = [
  {
    name: 'IMAP',
    challenge: 'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8',
    response: 'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth',
    rspauth: 'rspauth=ea40f60335c427b5527b84dbabcdfffd',
    nonce: 'OA6MG9tEQGm2hh', cnonce: 'OA6MHXh6VqTrRk', uri: 'imap/elwood.innosoft.com',
  },
  {
    name: 'ACAP',
    challenge: 'realm="elwood.innosoft.com",nonce="OA9BSXrbuRhWay",qop="auth",algorithm=md5-sess,charset=utf-8',
    response: 'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA9BSXrbuRhWay",nc=00000001,cnonce="OA9BSuZWMSpW8m",digest-uri="acap/elwood.innosoft.com",response=6084c6db3fede7352c551284490fd0fc,qop=auth',
    rspauth: 'rspauth=2f0b3d7c3c2e486600ef710726aa2eae',
    nonce: 'OA9BSXrbuRhWay', cnonce: 'OA9BSuZWMSpW8m', uri: 'acap/elwood.innosoft.com',
  },
];

const USERS = new Map([['chris', 'secret'], ['bob', 'bobsecret']]);
const passwordOf = (u: string): string | undefined => USERS.get(u);

for (const ex of RFC_EXAMPLES) {
  test(`RFC 2831 ${ex.name} example: response and rspauth values`, () => {
    const p: DigestParams = {
      username: 'chris', realm: 'elwood.innosoft.com', password: 'secret', nonce: Buffer.from(ex.nonce),
      cnonce: Buffer.from(ex.cnonce), nc: 1, qop: 'auth', digestUri: ex.uri,
    };
    const response = /response=([0-9a-f]{32})/.exec(ex.response)![1];
    assert.equal(responseValue(p, 'AUTHENTICATE'), response);
    assert.equal(`rspauth=${responseValue(p, '')}`, ex.rspauth);
  });

  test(`RFC 2831 ${ex.name} example: the server accepts the client's exact bytes`, () => {
    const server = new DigestMd5Server({ passwordOf, nonce: () => ex.nonce, realm: 'elwood.innosoft.com', digestUri: ex.uri });
    const c = server.evaluate(Buffer.alloc(0));
    assert.equal(c.complete, false);
    assert.equal(c.token.toString(), `realm="elwood.innosoft.com",nonce="${ex.nonce}",charset=utf-8,algorithm=md5-sess`);
    const done = server.evaluate(Buffer.from(ex.response));
    assert.equal(done.complete, true);
    assert.equal(done.username, 'chris');
    assert.equal(done.token.toString(), ex.rspauth);
  });
}

test('challenge: the JDK server directives for ZooKeeper (no qop: it defaults to auth)', () => {
  assert.equal(challengeToken(ZK_SASL_REALM, 'n0nce+/=').toString(), 'realm="zk-sasl-md5",nonce="n0nce+/=",charset=utf-8,algorithm=md5-sess');
  assert.equal(challengeToken('a"b\\c', 'n').toString(), 'realm="a\\"b\\\\c",nonce="n",charset=utf-8,algorithm=md5-sess');
});

test('parseDirectives: quoting, escapes, whitespace, empty elements and case of keys', () => {
  const d = parseDirectives(Buffer.from(' Username = "a\\"b\\\\c" ,, qop=auth ,nc=00000001,realm="",x="1,2"'));
  assert.equal(d.get('username')!.toString(), 'a"b\\c');
  assert.equal(d.get('qop')!.toString(), 'auth');
  assert.equal(d.get('nc')!.toString(), '00000001');
  assert.equal(d.get('realm')!.toString(), '');
  assert.equal(d.get('x')!.toString(), '1,2');
  assert.equal(parseDirectives(Buffer.alloc(0)).size, 0);
});

test('parseDirectives: malformed lists are errors', () => {
  const cases: [string, RegExp][] = [
    ['username', /has no value/],
    ['username="bob', /unterminated/],
    ['username="bob\\', /unterminated/],
    ['=x', /bad directive syntax/],
    ['username="a" junk', /junk after/],
    ['nonce="a",nonce="a"', /more than one nonce/],
    ['Realm="a",realm="a"', /more than one realm/],
    ['\u0000\u0001\u00ff', /bad directive syntax/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseDirectives(Buffer.from(text, 'latin1')), (e: unknown) => e instanceof DigestMd5Error && re.test(e.message), text);
});

test('credentials hash as ISO-8859-1 when they fit in it, else UTF-8 (RFC 2831 §2.1.2.1)', () => {
  assert.deepEqual(credentialBytes('bob', 'r', 'pässword'), Buffer.from('bob:r:pässword', 'latin1'));
  assert.deepEqual(credentialBytes('bob', 'r', '密码'), Buffer.from('bob:r:密码', 'utf8'));
});

/** What a ZooKeeper client (the JDK's, or pure-sasl) sends for `challenge`. */
function clientResponse(challenge: Buffer, user: string, password: string, extra: Partial<Record<string, string>> = {}, authzid?: string): Buffer {
  const d = parseDirectives(challenge);
  const nonce = d.get('nonce')!;
  const cnonce = Buffer.from('Zm9vYmFyY25vbmNl');
  // The client hashes the digest-uri it sends (a test may send another one).
  const uri = extra['digest-uri']?.replace(/^"|"$/g, '') ?? ZK_SASL_DIGEST_URI;
  const p: DigestParams = {
    username: user, realm: d.get('realm')!.toString(), password, nonce, cnonce, nc: 1, qop: 'auth', digestUri: uri,
    authzid: authzid === undefined ? undefined : Buffer.from(authzid),
  };
  const fields: Record<string, string> = {
    charset: 'utf-8', username: `"${user}"`, realm: `"${p.realm}"`, nonce: `"${nonce.toString()}"`, nc: '00000001',
    cnonce: `"${cnonce.toString()}"`, 'digest-uri': `"${ZK_SASL_DIGEST_URI}"`, maxbuf: '65536',
    response: responseValue(p, 'AUTHENTICATE'), qop: 'auth',
    ...(authzid === undefined ? {} : { authzid: `"${authzid}"` }),
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete fields[k];
    else fields[k] = v;
  }
  return Buffer.from(Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(','));
}

let nonces = 0;
function zkServer(): DigestMd5Server {
  return new DigestMd5Server({ passwordOf, nonce: () => `nonce-${++nonces}` });
}

test('a ZooKeeper exchange: empty token, challenge, response, rspauth the client can check', () => {
  const s = zkServer();
  const challenge = s.evaluate(Buffer.alloc(0)).token;
  assert.match(challenge.toString(), /^realm="zk-sasl-md5",nonce="nonce-\d+",charset=utf-8,algorithm=md5-sess$/);
  const done = s.evaluate(clientResponse(challenge, 'bob', 'bobsecret'));
  assert.equal(done.complete, true);
  assert.equal(done.username, 'bob');
  const d = parseDirectives(challenge);
  const expected = responseValue({
    username: 'bob', realm: ZK_SASL_REALM, password: 'bobsecret', nonce: d.get('nonce')!, cnonce: Buffer.from('Zm9vYmFyY25vbmNl'),
    nc: 1, qop: 'auth', digestUri: ZK_SASL_DIGEST_URI,
  }, '');
  assert.equal(done.token.toString(), `rspauth=${expected}`);
});

test('authzid takes part in A1; the identity stays the authenticated user', () => {
  const s = zkServer();
  const challenge = s.evaluate(Buffer.alloc(0)).token;
  const done = s.evaluate(clientResponse(challenge, 'bob', 'bobsecret', {}, 'admin'));
  assert.equal(done.username, 'bob');
  const s2 = zkServer();
  const c2 = s2.evaluate(Buffer.alloc(0)).token;
  // The response computed with authzid "admin" but sent without it does not verify.
  const bad = clientResponse(c2, 'bob', 'bobsecret', {}, 'admin').toString().replace(/,authzid="admin"/, '');
  assert.throws(() => s2.evaluate(Buffer.from(bad)), /Mismatched response/);
});

test('optional directives: no charset, no nc, no qop, no maxbuf, digest-uri in another case', () => {
  const s = zkServer();
  const challenge = s.evaluate(Buffer.alloc(0)).token;
  const r = clientResponse(challenge, 'bob', 'bobsecret', { charset: undefined, nc: undefined, qop: undefined, maxbuf: undefined, 'digest-uri': '"ZooKeeper/ZK-SASL-MD5"' });
  assert.doesNotMatch(r.toString(), /charset|nc=|qop|maxbuf/);
  assert.equal(s.evaluate(r).complete, true);
});

test('wrong password and unknown user fail', () => {
  const s = zkServer();
  assert.throws(() => s.evaluate(clientResponse(s.evaluate(Buffer.alloc(0)).token, 'bob', 'wrong')), /Mismatched response/);
  const s2 = zkServer();
  assert.throws(() => s2.evaluate(clientResponse(s2.evaluate(Buffer.alloc(0)).token, 'mallory', 'x')), /cannot acquire password for mallory/);
});

test('bad responses are refused with the reason', () => {
  const cases: [string, Partial<Record<string, string>>, RegExp][] = [
    ['no username', { username: undefined }, /Missing username/],
    ['no nonce', { nonce: undefined }, /Missing nonce/],
    ['no cnonce', { cnonce: undefined }, /Missing cnonce/],
    ['no response', { response: undefined }, /Missing response/],
    ['no digest-uri', { 'digest-uri': undefined }, /Mismatched URI/],
    ['other digest-uri', { 'digest-uri': '"zookeeper/other-host"' }, /Mismatched URI/],
    ['other realm', { realm: '"EXAMPLE.COM"' }, /Nonexistent realm/],
    ['no realm', { realm: undefined }, /Nonexistent realm/],
    ['other charset', { charset: 'iso-8859-1' }, /Incompatible charset/],
    ['nonce count 2', { nc: '00000002' }, /Nonce count does not match/],
    ['nonce count not hex', { nc: 'zz' }, /Nonce count does not match/],
    ['qop auth-int', { qop: 'auth-int' }, /does not support qop/],
    ['qop auth-conf', { qop: 'auth-conf' }, /does not support qop/],
    ['qop nonsense', { qop: 'x' }, /Invalid QOP/],
    ['bad maxbuf', { maxbuf: 'big' }, /Bad maxbuf/],
    ['upper-case response', { response: 'D388DAD90D4BBD760A152321F2143AF7' }, /Mismatched response/],
    ['short response', { response: 'abc' }, /Mismatched response/],
  ];
  for (const [name, extra, re] of cases) {
    const s = zkServer();
    const challenge = s.evaluate(Buffer.alloc(0)).token;
    assert.throws(() => s.evaluate(clientResponse(challenge, 'bob', 'bobsecret', extra)), (e: unknown) => e instanceof DigestMd5Error && re.test(e.message), name);
  }
});

test('garbage and oversized tokens are refused', () => {
  const s = zkServer();
  s.evaluate(Buffer.alloc(0));
  assert.throws(() => s.evaluate(Buffer.from([0xde, 0xad, 0xbe, 0xef])), DigestMd5Error);
  const s2 = zkServer();
  s2.evaluate(Buffer.alloc(0));
  assert.throws(() => s2.evaluate(Buffer.alloc(MAX_DIGEST_RESPONSE_BYTES + 1, 0x61)), /too long/);
  assert.throws(() => verifyResponse(Buffer.alloc(MAX_DIGEST_RESPONSE_BYTES + 1, 0x61), { realm: ZK_SASL_REALM, digestUri: ZK_SASL_DIGEST_URI, nonce: 'n', passwordOf }), /too long/);
});

test('an initial response is refused (DIGEST-MD5 has none)', () => {
  const s = zkServer();
  assert.throws(() => s.evaluate(Buffer.from('username="bob"')), /must not have an initial response/);
  assert.throws(() => s.evaluate(Buffer.alloc(0)), /illegal state/, 'the exchange is over after a failure');
});

test('nonce reuse: a response to another exchange\'s nonce fails, and a nonce answers once', () => {
  const first = zkServer();
  const c1 = first.evaluate(Buffer.alloc(0)).token;
  const r1 = clientResponse(c1, 'bob', 'bobsecret');
  assert.equal(first.evaluate(r1).complete, true);
  // Replayed to the same exchange: it is complete, nothing more is accepted.
  assert.throws(() => first.evaluate(r1), /illegal state/);
  // Replayed to a new exchange (another nonce): refused.
  const second = zkServer();
  second.evaluate(Buffer.alloc(0));
  assert.throws(() => second.evaluate(r1), /Mismatched nonce/);
  // And that exchange is spent: even the right answer to its own nonce is refused afterwards.
  assert.throws(() => second.evaluate(Buffer.alloc(0)), /illegal state/);
});

test('a response before the challenge is refused', () => {
  const s = zkServer();
  assert.throws(() => s.evaluate(Buffer.from('username="bob",nonce="x"')), /initial response/);
});
