/**
 * A test-side Kerberos initiator: what a KDC and a client library would produce (a ticket under
 * the service's key, an authenticator under the session key, RFC 4121 Wrap tokens), built with
 * the DER writer so the acceptor can be driven through every check without a KDC. Real clients
 * against a real KDC are in test/interop/zk-kerberos.test.ts.
 */
import { randomBytes } from 'node:crypto';
import * as der from '../../../../../zkproxy/session/kerberos/der';
import { type KrbKey, checksum, checksumBytes, decrypt, encrypt } from '../../../../../zkproxy/session/kerberos/krb-aes';

/** A random key of an AES type (aes256-cts-hmac-sha1-96 by default). */
export function aesKey(etype = 18): KrbKey {
  return { etype, key: randomBytes(etype === 18 || etype === 20 ? 32 : 16) };
}

function principal(parts: string[]): Buffer {
  return der.sequence([der.integer(1), der.tlv(der.TAG.sequence, ...parts.map((p) => der.tlv(der.TAG.generalString, Buffer.from(p))))]);
}

function encKey(k: KrbKey): Buffer {
  return der.sequence([der.integer(k.etype), der.octets(k.key)]);
}

/** What the test controls about one AP-REQ. */
export interface ApReqSpec {
  serviceKey: KrbKey;
  kvno?: number;
  service: string[];
  client: string[];
  realm: string;
  sessionKey: KrbKey;
  subkey?: KrbKey;
  /** The authenticator's cname, when it should differ from the ticket's. */
  authClient?: string[];
  now: number;
  authtime?: number;
  endtime?: number;
  ctime?: number;
  cusec?: number;
  mutual: boolean;
  seq?: number;
  /** Leave out the GSS checksum. */
  noChecksum?: boolean;
}

/** The framed initial context token for `s`. */
export function initialToken(s: ApReqSpec): Buffer {
  const ticketPart = der.tlv(der.applicationTag(3), der.sequence([
    der.tlv(der.TAG.bitString, Buffer.from([0, 0, 0, 0, 0])), encKey(s.sessionKey), der.tlv(der.TAG.generalString, Buffer.from(s.realm)), principal(s.client),
    der.sequence([der.integer(0), der.octets(Buffer.alloc(0))]), der.time(s.authtime ?? s.now - 1000), undefined, der.time(s.endtime ?? s.now + 3_600_000),
  ]));
  const ticket = der.tlv(der.applicationTag(1), der.sequence([
    der.integer(5), der.tlv(der.TAG.generalString, Buffer.from(s.realm)), principal(s.service),
    der.sequence([der.integer(s.serviceKey.etype), s.kvno === undefined ? undefined : der.integer(s.kvno), der.octets(encrypt(s.serviceKey, 2, ticketPart))]),
  ]));
  const gssChecksum = Buffer.alloc(24);
  gssChecksum.writeUInt32LE(16, 0);
  gssChecksum.writeUInt32LE(s.mutual ? 2 | 32 | 16 : 32 | 16, 20);
  const authenticator = der.tlv(der.applicationTag(2), der.sequence([
    der.integer(5), der.tlv(der.TAG.generalString, Buffer.from(s.realm)), principal(s.authClient ?? s.client),
    s.noChecksum ? undefined : der.sequence([der.integer(0x8003), der.octets(gssChecksum)]),
    der.integer(s.cusec ?? 123), der.time(s.ctime ?? s.now), s.subkey ? encKey(s.subkey) : undefined, der.integer(s.seq ?? 7),
  ]));
  const apReq = der.tlv(der.applicationTag(14), der.sequence([
    der.integer(5), der.integer(14), der.tlv(der.TAG.bitString, Buffer.from([0, s.mutual ? 0x20 : 0, 0, 0, 0])), ticket,
    der.sequence([der.integer(s.sessionKey.etype), undefined, der.octets(encrypt(s.sessionKey, 11, authenticator))]),
  ]));
  return der.tlv(der.applicationTag(0), der.tlv(der.TAG.oid, Buffer.from('2a864886f712010202', 'hex')), Buffer.from([1, 0]), apReq);
}

/** Decrypts an AP-REP token's EncAPRepPart; returns its fields' DER elements. */
export function readApRep(token: Buffer, sessionKey: KrbKey): Map<number, der.Tlv> {
  const outer = der.readTlv(token).tlv.value;
  const body = outer.subarray(der.readTlv(outer).end + 2);
  const rep = der.fields(der.readTlv(der.readTlv(body).tlv.value).tlv.value, 'AP-REP');
  const enc = der.fields(der.asSequence(der.required(rep, 2, 'AP-REP'), 'enc'), 'enc');
  const plain = decrypt(sessionKey, 12, der.asOctets(der.required(enc, 2, 'enc'), 'cipher'));
  return der.fields(der.readTlv(der.readTlv(plain).tlv.value).tlv.value, 'EncAPRepPart');
}

/** A Wrap token as the initiator sends it: integrity only, or sealed. */
export function initiatorWrap(key: KrbKey, payload: Buffer, seq: number, sealed = false): Buffer {
  const header = (ec: number): Buffer => {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(0x0504, 0);
    h[2] = sealed ? 2 : 0;
    h[3] = 0xff;
    h.writeUInt16BE(ec, 4);
    h.writeBigUInt64BE(BigInt(seq), 8);
    return h;
  };
  if (sealed) return Buffer.concat([header(0), encrypt(key, 24, Buffer.concat([payload, header(0)]))]);
  return Buffer.concat([header(checksumBytes(key)), payload, checksum(key, 24, Buffer.concat([payload, header(0)]))]);
}

/** Verifies an acceptor's integrity-only Wrap token; returns the payload. */
export function acceptorUnwrap(key: KrbKey, token: Buffer): Buffer {
  const ec = token.readUInt16BE(4);
  const zeroed = Buffer.from(token.subarray(0, 16));
  zeroed.writeUInt32BE(0, 4);
  const payload = token.subarray(16, token.length - ec);
  const mac = checksum(key, 22, Buffer.concat([payload, zeroed]));
  if (!mac.equals(token.subarray(token.length - ec)) || token[2] !== 1) throw new Error('acceptor Wrap token does not verify');
  return payload;
}
