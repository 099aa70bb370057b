/**
 * SASL DIGEST-MD5 (RFC 2831), server side, as the JDK's SASL server runs it for ZooKeeper
 * (ZooKeeperSaslServer: protocol "zookeeper", server name "zk-sasl-md5", no properties):
 *
 *   client: (empty token)
 *   server: realm="zk-sasl-md5",nonce="…",charset=utf-8,algorithm=md5-sess
 *   client: username="bob",realm="zk-sasl-md5",nonce="…",cnonce="…",nc=00000001,qop=auth,
 *           digest-uri="zookeeper/zk-sasl-md5",response=<32 hex>[,charset=utf-8][,authzid="…"]
 *   server: rspauth=<32 hex>            (complete; the identity is the user name)
 *
 * Only qop "auth" is offered (no integrity or privacy layer: ZooKeeper never wraps its frames).
 * Everything here is a pure function of its inputs except {@link DigestMd5Server}, a three-state
 * holder over them whose nonce source is injected. Any malformed or wrong token throws
 * {@link DigestMd5Error}; the caller turns that into ZooKeeper's SASL failure for one connection.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The realm ZooKeeper hard-codes for DIGEST-MD5 (its SASL "server name"). */
export const ZK_SASL_REALM = 'zk-sasl-md5';
/** The digest-uri a ZooKeeper client sends: `<protocol>/<server name>`. */
export const ZK_SASL_DIGEST_URI = 'zookeeper/zk-sasl-md5';
/** RFC 2831 §2.1.2 bounds a digest-response at 4096 bytes; the JDK refuses a longer one, and so do we. */
export const MAX_DIGEST_RESPONSE_BYTES = 4096;

/** A failed exchange: bad syntax, a mismatch, an unknown user or a wrong password. */
export class DigestMd5Error extends Error {
  constructor(message: string) {
    super(`DIGEST-MD5: ${message}`);
    this.name = 'DigestMd5Error';
  }
}

/** RFC 2616 token characters: any CHAR except CTLs and separators. */
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a directive list (`key=value` or `key="quoted value"`, comma separated, optional
 * whitespace, empty elements allowed) into lower-cased keys and raw value bytes. Quoted values
 * have their backslash escapes removed. Throws on bad syntax and on a repeated directive
 * (RFC 2831 says each appears at most once in a response).
 */
export function parseDirectives(token: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const n = token.length;
  let i = 0;
  const skipSpace = (): void => {
    while (i < n && (token[i] === 0x20 || token[i] === 0x09 || token[i] === 0x0d || token[i] === 0x0a)) i++;
  };
  while (i < n) {
    skipSpace();
    if (i < n && token[i] === 0x2c) { i++; continue; } // empty list element
    if (i >= n) break;
    const keyStart = i;
    while (i < n && TOKEN_CHAR.test(String.fromCharCode(token[i]!))) i++;
    if (i === keyStart) throw new DigestMd5Error(`bad directive syntax at byte ${i}`);
    const key = token.subarray(keyStart, i).toString('latin1').toLowerCase();
    skipSpace();
    if (token[i] !== 0x3d) throw new DigestMd5Error(`directive ${key} has no value`);
    i++;
    skipSpace();
    let value: Buffer;
    if (token[i] === 0x22) {
      const bytes: number[] = [];
      i++;
      for (;;) {
        if (i >= n) throw new DigestMd5Error(`unterminated quoted value of ${key}`);
        const c = token[i++]!;
        if (c === 0x22) break;
        if (c === 0x5c) {
          if (i >= n) throw new DigestMd5Error(`unterminated quoted value of ${key}`);
          bytes.push(token[i++]!);
        } else bytes.push(c);
      }
      value = Buffer.from(bytes);
    } else {
      const start = i;
      while (i < n && token[i] !== 0x2c) i++;
      value = Buffer.from(token.subarray(start, i).toString('latin1').trimEnd(), 'latin1');
    }
    skipSpace();
    if (i < n && token[i] !== 0x2c) throw new DigestMd5Error(`junk after the value of ${key}`);
    if (out.has(key)) throw new DigestMd5Error(`more than one ${key} directive`);
    out.set(key, value);
  }
  return out;
}

/** Writes `s` as an RFC 2831 quoted-string body (backslash before `"` and `\`). */
function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`;
}

/** The server's first token (the JDK's choice and order of directives, qop left to its default "auth"). */
export function challengeToken(realm: string, nonce: string): Buffer {
  return Buffer.from(`realm=${quote(realm)},nonce=${quote(nonce)},charset=utf-8,algorithm=md5-sess`, 'utf8');
}

function md5(...parts: (Buffer | string)[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return h.digest();
}

/**
 * `username:realm:password` as hashed into A1: ISO-8859-1 when every character fits in it,
 * else UTF-8 (RFC 2831 §2.1.2.1, "charset=utf-8"; the JDK converts the same way).
 */
export function credentialBytes(username: string, realm: string, password: string): Buffer {
  const s = `${username}:${realm}:${password}`;
  for (const ch of s) if (ch.codePointAt(0)! > 0xff) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

/** What the response and rspauth values are computed from. */
export interface DigestParams {
  username: string;
  realm: string;
  password: string;
  /** The nonce, cnonce and authzid exactly as the client sent them. */
  nonce: Buffer;
  cnonce: Buffer;
  authzid?: Buffer;
  /** The nonce count (1 for an initial authentication). */
  nc: number;
  qop: string;
  digestUri: string;
}

/**
 * RFC 2831 §2.1.2.1 response-value: HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2)))) with
 * A1 = H(user:realm:password):nonce:cnonce[:authzid] and A2 = `method:digest-uri`. Method
 * "AUTHENTICATE" gives the client's `response`, method "" the server's `rspauth`.
 */
export function responseValue(p: DigestParams, method: 'AUTHENTICATE' | ''): string {
  const colon = Buffer.from(':');
  const a1Parts = [md5(credentialBytes(p.username, p.realm, p.password)), colon, p.nonce, colon, p.cnonce];
  if (p.authzid) a1Parts.push(colon, p.authzid);
  const hexA1 = md5(Buffer.concat(a1Parts)).toString('hex');
  const hexA2 = md5(`${method}:${p.digestUri}`).toString('hex');
  const nc = p.nc.toString(16).padStart(8, '0');
  return md5(Buffer.concat([Buffer.from(`${hexA1}:`), p.nonce, Buffer.from(`:${nc}:`), p.cnonce, Buffer.from(`:${p.qop}:${hexA2}`)])).toString('hex');
}

/** A verified digest-response. */
export interface VerifiedResponse {
  username: string;
  /** The authzid the client asked for, if any (ZooKeeper ignores it: see the authenticator). */
  authzid?: string;
  /** The server's final token, `rspauth=<hex>`. */
  rspauth: Buffer;
}

/** Looks up a user's password; undefined for an unknown user. */
export type PasswordLookup = (username: string) => string | undefined;

/** What a response is checked against. */
export interface ExpectedResponse {
  realm: string;
  digestUri: string;
  nonce: string;
  passwordOf: PasswordLookup;
}

function required(d: Map<string, Buffer>, key: string): Buffer {
  const v = d.get(key);
  if (v === undefined) throw new DigestMd5Error(`digest response format violation. Missing ${key}.`);
  return v;
}

/**
 * Checks a client's digest-response against the server's challenge state, in the JDK's order
 * and with its rules (charset only "utf-8", realm and nonce must be ours, nonce count 1, qop
 * "auth", digest-uri `zookeeper/zk-sasl-md5` ignoring case, response equal to ours). Returns the
 * user and the rspauth token, or throws {@link DigestMd5Error}.
 */
export function verifyResponse(token: Buffer, expected: ExpectedResponse): VerifiedResponse {
  if (token.length > MAX_DIGEST_RESPONSE_BYTES) throw new DigestMd5Error(`digest response of ${token.length} bytes is too long`);
  const d = parseDirectives(token);
  const text = (b: Buffer): string => b.toString('utf8');
  const charset = d.get('charset');
  if (charset !== undefined && text(charset) !== 'utf-8') throw new DigestMd5Error(`digest response format violation. Incompatible charset value: ${text(charset)}`);
  const maxbuf = d.get('maxbuf');
  if (maxbuf !== undefined && !/^\d{1,10}$/.test(text(maxbuf))) throw new DigestMd5Error('digest response format violation. Bad maxbuf.');
  const username = text(required(d, 'username'));
  const realm = d.has('realm') ? text(d.get('realm')!) : '';
  if (realm !== expected.realm) throw new DigestMd5Error(`digest response format violation. Nonexistent realm: ${realm}`);
  const nonce = required(d, 'nonce');
  if (!nonce.equals(Buffer.from(expected.nonce, 'utf8'))) throw new DigestMd5Error('digest response format violation. Mismatched nonce.');
  const cnonce = required(d, 'cnonce');
  const ncText = d.has('nc') ? text(d.get('nc')!) : '00000001';
  if (!/^[0-9a-fA-F]{1,8}$/.test(ncText) || parseInt(ncText, 16) !== 1) throw new DigestMd5Error(`digest response format violation. Nonce count does not match: ${ncText}`);
  const qop = d.has('qop') ? text(d.get('qop')!) : 'auth';
  if (qop === 'auth-int' || qop === 'auth-conf') throw new DigestMd5Error(`server does not support qop: ${qop}`);
  if (qop !== 'auth') throw new DigestMd5Error(`digest response format violation. Invalid QOP: ${qop}`);
  const digestUri = d.has('digest-uri') ? text(d.get('digest-uri')!) : undefined;
  if (digestUri === undefined || digestUri.toLowerCase() !== expected.digestUri.toLowerCase()) {
    throw new DigestMd5Error(`digest response format violation. Mismatched URI: ${digestUri}; expecting: ${expected.digestUri}`);
  }
  const response = required(d, 'response');
  const authzid = d.get('authzid');
  const password = expected.passwordOf(username);
  if (password === undefined) throw new DigestMd5Error(`cannot acquire password for ${username} in realm : ${realm}`);
  const params: DigestParams = { username, realm, password, nonce, cnonce, authzid, nc: 1, qop, digestUri };
  const ours = Buffer.from(responseValue(params, 'AUTHENTICATE'), 'latin1');
  // Constant time: the response must not leak how much of it was right.
  if (response.length !== ours.length || !timingSafeEqual(response, ours)) throw new DigestMd5Error('digest response format violation. Mismatched response.');
  return {
    username,
    authzid: authzid === undefined ? undefined : text(authzid),
    rspauth: Buffer.from(`rspauth=${responseValue(params, '')}`, 'latin1'),
  };
}

/** The result of one server step. */
export interface DigestStep {
  /** The token to send back. */
  token: Buffer;
  /** True after the final (rspauth) step: the client is authenticated. */
  complete: boolean;
  /** The authenticated user, once complete. */
  username?: string;
}

/** Options of a {@link DigestMd5Server}. */
export interface DigestMd5ServerOptions {
  passwordOf: PasswordLookup;
  /** A fresh nonce per exchange (quoted-string safe: no `"` or `\`). */
  nonce: () => string;
  /** Default {@link ZK_SASL_REALM}. */
  realm?: string;
  /** Default {@link ZK_SASL_DIGEST_URI}. */
  digestUri?: string;
}

/**
 * One server-side exchange (one per connection, as ZooKeeper makes one SaslServer per
 * connection): step 1 takes the empty initial token and answers the challenge, step 2 checks
 * the response and answers rspauth. Any other call, including any call after a failure or after
 * completion, throws: a nonce is good for exactly one response.
 */
export class DigestMd5Server {
  private state: 'initial' | 'challenged' | 'done' = 'initial';
  private nonce = '';
  private readonly realm: string;
  private readonly digestUri: string;

  constructor(private readonly opts: DigestMd5ServerOptions) {
    this.realm = opts.realm ?? ZK_SASL_REALM;
    this.digestUri = opts.digestUri ?? ZK_SASL_DIGEST_URI;
  }

  /** Evaluates the client's token (the JDK's SaslServer.evaluateResponse). */
  evaluate(token: Buffer): DigestStep {
    if (token.length > MAX_DIGEST_RESPONSE_BYTES) {
      this.state = 'done';
      throw new DigestMd5Error(`digest response of ${token.length} bytes is too long`);
    }
    switch (this.state) {
      case 'initial': {
        if (token.length !== 0) {
          this.state = 'done';
          throw new DigestMd5Error('must not have an initial response');
        }
        this.nonce = this.opts.nonce();
        this.state = 'challenged';
        return { token: challengeToken(this.realm, this.nonce), complete: false };
      }
      case 'challenged': {
        // Whatever the outcome, this nonce is spent.
        this.state = 'done';
        const v = verifyResponse(token, { realm: this.realm, digestUri: this.digestUri, nonce: this.nonce, passwordOf: this.opts.passwordOf });
        return { token: v.rspauth, complete: true, username: v.username };
      }
      case 'done':
        throw new DigestMd5Error('server at illegal state');
    }
  }
}
