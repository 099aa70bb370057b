/**
 * The Kerberos messages a service sees (RFC 4120 §5): the client's KRB_AP_REQ with its ticket
 * and authenticator, and the KRB_AP_REP the service answers with when the client asks for
 * mutual authentication. Decoding only; the checks (keys, times, names) are the acceptor's.
 */
import * as der from './der';
import type { KrbKey } from './krb-aes';

/** A principal name: its type and its components (`name/instance`). */
export interface PrincipalName {
  nameType: number;
  parts: string[];
}

/** An EncryptedData: etype, optional key version, ciphertext. */
export interface EncryptedData {
  etype: number;
  kvno?: number;
  cipher: Buffer;
}

/** A KRB_AP_REQ. */
export interface ApReq {
  /** ap-options' mutual-required bit. */
  mutualRequired: boolean;
  ticket: { realm: string; sname: PrincipalName; encPart: EncryptedData };
  authenticator: EncryptedData;
}

/** What a ticket's encrypted part says (the fields an acceptor uses). */
export interface EncTicketPart {
  sessionKey: KrbKey;
  crealm: string;
  cname: PrincipalName;
  authtime: number;
  starttime?: number;
  endtime: number;
}

/** A decrypted authenticator. */
export interface Authenticator {
  crealm: string;
  cname: PrincipalName;
  checksum?: { type: number; value: Buffer };
  ctime: number;
  cusec: number;
  subkey?: KrbKey;
  seqNumber?: number;
}

/** Key usage numbers (RFC 4120 §7.5.1). */
export const KEY_USAGE = { ticket: 2, apReqAuthenticator: 11, apRepEncPart: 12 } as const;

const MSG_AP_REQ = 14;
const MSG_AP_REP = 15;
const AP_OPTION_MUTUAL_REQUIRED = 2;

/** `name/instance@REALM` for a name and realm. */
export function principalString(p: PrincipalName, realm: string): string {
  return `${p.parts.join('/')}@${realm}`;
}

function principalName(t: der.Tlv, what: string): PrincipalName {
  const f = der.fields(der.asSequence(t, what), what);
  const parts = der.children(der.asSequence(der.required(f, 1, what), what)).map((c) => der.asString(c, `${what} component`));
  return { nameType: der.asInteger(der.required(f, 0, what), what), parts };
}

function encryptedData(t: der.Tlv, what: string): EncryptedData {
  const f = der.fields(der.asSequence(t, what), what);
  const kvno = f.get(1);
  return {
    etype: der.asInteger(der.required(f, 0, what), `${what} etype`),
    kvno: kvno ? der.asInteger(kvno, `${what} kvno`) : undefined,
    cipher: der.asOctets(der.required(f, 2, what), `${what} cipher`),
  };
}

function encryptionKey(t: der.Tlv, what: string): KrbKey {
  const f = der.fields(der.asSequence(t, what), what);
  return { etype: der.asInteger(der.required(f, 0, what), what), key: Buffer.from(der.asOctets(der.required(f, 1, what), what)) };
}

/** An `[APPLICATION app]` element holding one SEQUENCE: that SEQUENCE's fields. */
function applicationFields(t: der.Tlv, app: number, what: string): Map<number, der.Tlv> {
  if (t.tag !== der.applicationTag(app)) throw new der.DerError(`${what}: expected [APPLICATION ${app}], found tag 0x${t.tag.toString(16)}`);
  const inner = der.readTlv(t.value);
  if (inner.end !== t.value.length) throw new der.DerError(`${what}: trailing bytes`);
  return der.fields(der.asSequence(inner.tlv, what), what);
}

/**
 * The first element of a decrypted plaintext. Bytes after it are ignored: RFC 3961 lets an
 * encryption type pad the plaintext.
 */
function firstElement(plain: Buffer): der.Tlv {
  return der.readTlv(plain).tlv;
}

/** Decodes a KRB_AP_REQ (the bytes after the GSS token's header). */
export function decodeApReq(buf: Buffer): ApReq {
  const f = applicationFields(der.readTlv(buf).tlv, MSG_AP_REQ, 'AP-REQ');
  if (der.asInteger(der.required(f, 0, 'AP-REQ'), 'AP-REQ pvno') !== 5) throw new der.DerError('AP-REQ: protocol version is not 5');
  if (der.asInteger(der.required(f, 1, 'AP-REQ'), 'AP-REQ msg-type') !== MSG_AP_REQ) throw new der.DerError('AP-REQ: wrong message type');
  const options = der.required(f, 2, 'AP-REQ');
  const tf = applicationFields(der.required(f, 3, 'AP-REQ'), 1, 'Ticket');
  return {
    mutualRequired: der.bitSet(options, AP_OPTION_MUTUAL_REQUIRED, 'ap-options'),
    ticket: {
      realm: der.asString(der.required(tf, 1, 'Ticket'), 'Ticket realm'),
      sname: principalName(der.required(tf, 2, 'Ticket'), 'Ticket sname'),
      encPart: encryptedData(der.required(tf, 3, 'Ticket'), 'Ticket enc-part'),
    },
    authenticator: encryptedData(der.required(f, 4, 'AP-REQ'), 'authenticator'),
  };
}

/** Decodes a ticket's decrypted EncTicketPart. */
export function decodeEncTicketPart(plain: Buffer): EncTicketPart {
  const f = applicationFields(firstElement(plain), 3, 'EncTicketPart');
  const start = f.get(6);
  return {
    sessionKey: encryptionKey(der.required(f, 1, 'EncTicketPart'), 'ticket session key'),
    crealm: der.asString(der.required(f, 2, 'EncTicketPart'), 'ticket crealm'),
    cname: principalName(der.required(f, 3, 'EncTicketPart'), 'ticket cname'),
    authtime: der.asTime(der.required(f, 5, 'EncTicketPart'), 'ticket authtime'),
    starttime: start ? der.asTime(start, 'ticket starttime') : undefined,
    endtime: der.asTime(der.required(f, 7, 'EncTicketPart'), 'ticket endtime'),
  };
}

/** Decodes a decrypted Authenticator. */
export function decodeAuthenticator(plain: Buffer): Authenticator {
  const f = applicationFields(firstElement(plain), 2, 'Authenticator');
  const ck = f.get(3);
  const sub = f.get(6);
  const seq = f.get(7);
  let checksum: Authenticator['checksum'];
  if (ck) {
    const cf = der.fields(der.asSequence(ck, 'authenticator cksum'), 'authenticator cksum');
    checksum = { type: der.asInteger(der.required(cf, 0, 'cksum'), 'cksumtype'), value: der.asOctets(der.required(cf, 1, 'cksum'), 'checksum') };
  }
  return {
    crealm: der.asString(der.required(f, 1, 'Authenticator'), 'authenticator crealm'),
    cname: principalName(der.required(f, 2, 'Authenticator'), 'authenticator cname'),
    checksum,
    cusec: der.asInteger(der.required(f, 4, 'Authenticator'), 'authenticator cusec'),
    ctime: der.asTime(der.required(f, 5, 'Authenticator'), 'authenticator ctime'),
    subkey: sub ? encryptionKey(sub, 'authenticator subkey') : undefined,
    seqNumber: seq ? der.asInteger(seq, 'authenticator seq-number') >>> 0 : undefined,
  };
}

/** The DER of an EncAPRepPart echoing the authenticator's time, with our sequence number. */
export function encodeEncApRepPart(ctime: number, cusec: number, seqNumber: number): Buffer {
  return der.tlv(der.applicationTag(27), der.sequence([der.time(ctime), der.integer(cusec), undefined, der.integer(seqNumber)]));
}

/** A KRB_AP_REP around an encrypted EncAPRepPart. */
export function encodeApRep(etype: number, cipher: Buffer): Buffer {
  const encPart = der.sequence([der.integer(etype), undefined, der.octets(cipher)]);
  return der.tlv(der.applicationTag(MSG_AP_REP), der.sequence([der.integer(5), der.integer(MSG_AP_REP), encPart]));
}
