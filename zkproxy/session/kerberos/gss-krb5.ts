/**
 * The acceptor side of the Kerberos V5 GSS-API mechanism (RFC 1964 framing, RFC 4121 tokens),
 * as much of it as SASL GSSAPI needs: accept a client's initial context token (a framed
 * KRB_AP_REQ) against the service's keytab, answer with a framed KRB_AP_REP when the client
 * asks for mutual authentication, then wrap and unwrap RFC 4121 per-message tokens.
 *
 * A client is accepted only if its ticket decrypts under one of our keys, its authenticator
 * decrypts under the ticket's session key and names the ticket's client, the ticket is
 * current, the authenticator's time is within the clock skew, and the authenticator has not
 * been seen before (replay).
 */
import { randomInt, timingSafeEqual } from 'node:crypto';
import * as der from './der';
import { type KrbKey, checksum, checksumBytes, decrypt, encrypt } from './krb-aes';
import { KrbCryptoError } from './krb-crypto-error';
import { type KeytabEntry, principalMatches } from './keytab';
import { type ApReq, type Authenticator, type EncTicketPart, KEY_USAGE, decodeApReq, decodeAuthenticator, decodeEncTicketPart, encodeApRep, encodeEncApRepPart, principalString } from './krb-messages';
import type { ReplayCache } from './replay-cache';

/** Why a token was refused; the message is for the server's log. */
export class GssError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GssError';
  }
}

/** An established security context. */
export interface GssContext {
  /** The client's principal, `name/instance@REALM`. */
  client: string;
  /** The key of per-message tokens: the initiator's subkey, else the ticket's session key. */
  key: KrbKey;
  /** Our next per-message sequence number. */
  sendSeq: number;
}

/** How the acceptor checks tickets. */
export interface AcceptorOptions {
  /** The service's keys. */
  keys: readonly KeytabEntry[];
  /** The service principal tickets must be for; `*` accepts any principal of the keytab. */
  principal: string;
  replay: ReplayCache;
  /** Allowed clock difference (Kerberos' default is 5 minutes). */
  skewMs: number;
  now?: () => number;
}

const KRB5_OID = Buffer.from('2a864886f712010202', 'hex');
/** The OID Windows clients once sent by mistake, which MIT and the JDK accept too. */
const KRB5_OID_MS = Buffer.from('2a864882f712010202', 'hex');
const TOK_AP_REQ = 0x0100;
const TOK_AP_REP = 0x0200;
const TOK_WRAP = 0x0504;
const CHECKSUM_GSS = 0x8003;
const GSS_FLAG_MUTUAL = 2;
/**
 * RFC 4121 §2 key usages of Wrap tokens. The SEAL usages key every Wrap token, encrypted or
 * only checksummed (the SIGN usages are for MIC tokens, which SASL does not use).
 */
const USAGE = { acceptorSeal: 22, initiatorSeal: 24 } as const;
const FLAG_SENT_BY_ACCEPTOR = 1;
const FLAG_SEALED = 2;
const FLAG_ACCEPTOR_SUBKEY = 4;

/** Strips RFC 2743's generic framing (`0x60`, the mechanism OID); returns the token id and body. */
function unframe(token: Buffer): { tokId: number; body: Buffer } {
  const outer = der.readTlv(token);
  if (outer.tlv.tag !== der.applicationTag(0) || outer.end !== token.length) throw new GssError('not a GSS-API initial context token');
  const oid = der.readTlv(outer.tlv.value);
  if (oid.tlv.tag !== der.TAG.oid) throw new GssError('GSS-API token without a mechanism OID');
  if (!oid.tlv.value.equals(KRB5_OID) && !oid.tlv.value.equals(KRB5_OID_MS)) throw new GssError('GSS-API mechanism is not Kerberos V5 (SPNEGO and others are not supported)');
  const rest = outer.tlv.value.subarray(oid.end);
  if (rest.length < 2) throw new GssError('GSS-API token truncated');
  return { tokId: rest.readUInt16BE(0), body: rest.subarray(2) };
}

/** Frames a context token the way {@link unframe} reads it. */
function frame(tokId: number, body: Buffer): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(tokId);
  return der.tlv(der.applicationTag(0), der.tlv(der.TAG.oid, KRB5_OID), id, body);
}

/** Tries each key that may have encrypted the ticket; returns the plaintext. */
function decryptTicket(o: AcceptorOptions, service: string, etype: number, kvno: number | undefined, cipher: Buffer): Buffer {
  const mine = o.keys.filter((k) => principalMatches(o.principal, k.principal) && k.principal === service);
  if (mine.length === 0) throw new GssError(`the ticket is for ${service}, which ${o.principal === '*' ? 'the keytab has no key for' : `is not this server's principal ${o.principal}`}`);
  const candidates = mine.filter((k) => k.etype === etype).sort((a, b) => Number(b.kvno === kvno) - Number(a.kvno === kvno));
  if (candidates.length === 0) throw new GssError(`the keytab has no key of encryption type ${etype} for ${service} (it has ${[...new Set(mine.map((k) => k.etype))].join(', ')})`);
  for (const k of candidates) {
    try {
      return decrypt(k, KEY_USAGE.ticket, cipher);
    } catch (e) {
      if (!(e instanceof KrbCryptoError)) throw e;
    }
  }
  throw new GssError(`the ticket for ${service} (kvno ${kvno ?? '?'}) does not decrypt with the keytab's keys: the keytab is stale or for another KDC`);
}

/** The ticket's contents, after its key, times and client were checked. */
function openTicket(req: ApReq, o: AcceptorOptions, now: number): { ticket: EncTicketPart; client: string } {
  const service = principalString(req.ticket.sname, req.ticket.realm);
  const { etype, kvno, cipher } = req.ticket.encPart;
  const ticket = decodeEncTicketPart(decryptTicket(o, service, etype, kvno, cipher));
  if (now + o.skewMs < (ticket.starttime ?? ticket.authtime)) throw new GssError('the ticket is not yet valid (clock skew?)');
  if (now - o.skewMs > ticket.endtime) throw new GssError('the ticket has expired');
  return { ticket, client: principalString(ticket.cname, ticket.crealm) };
}

/** The authenticator, after its client, time, freshness and GSS checksum were checked. */
function openAuthenticator(req: ApReq, ticket: EncTicketPart, client: string, o: AcceptorOptions, now: number): Authenticator & { checksum: { value: Buffer } } {
  const auth = decodeAuthenticator(decrypt(ticket.sessionKey, KEY_USAGE.apReqAuthenticator, req.authenticator.cipher));
  if (principalString(auth.cname, auth.crealm) !== client) throw new GssError('the authenticator names another client than the ticket');
  if (Math.abs(auth.ctime - now) > o.skewMs) throw new GssError('the authenticator is outside the allowed clock skew');
  if (!o.replay.firstSeen(`${client} ${auth.ctime} ${auth.cusec}`, now)) throw new GssError('replayed authenticator');
  const ck = auth.checksum;
  if (!ck || ck.type !== CHECKSUM_GSS || ck.value.length < 24) throw new GssError('the authenticator has no GSS-API checksum');
  return { ...auth, checksum: ck };
}

/**
 * Accepts the client's initial context token. Returns the context and, when the client asked
 * for mutual authentication, the token to send back. Throws {@link GssError} (or a DER or crypto
 * error, also a refusal) otherwise.
 */
export function acceptSecContext(token: Buffer, o: AcceptorOptions): { context: GssContext; output?: Buffer } {
  const now = (o.now ?? Date.now)();
  const { tokId, body } = unframe(token);
  if (tokId !== TOK_AP_REQ) throw new GssError(`expected an AP-REQ token, got token id 0x${tokId.toString(16)}`);
  const req = decodeApReq(body);
  const { ticket, client } = openTicket(req, o, now);
  const auth = openAuthenticator(req, ticket, client, o, now);
  const mutual = req.mutualRequired || (auth.checksum.value.readUInt32LE(20) & GSS_FLAG_MUTUAL) !== 0;
  const context: GssContext = { client, key: auth.subkey ?? ticket.sessionKey, sendSeq: auth.seqNumber ?? 0 };
  if (!mutual) return { context };
  // The AP-REP tells the client where our sequence numbers start.
  context.sendSeq = randomInt(0, 0x40000000);
  const encPart = encrypt(ticket.sessionKey, KEY_USAGE.apRepEncPart, encodeEncApRepPart(auth.ctime, auth.cusec, context.sendSeq));
  return { context, output: frame(TOK_AP_REP, encodeApRep(ticket.sessionKey.etype, encPart)) };
}

function header(flags: number, ec: number, rrc: number, seq: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(TOK_WRAP, 0);
  h[2] = flags;
  h[3] = 0xff;
  h.writeUInt16BE(ec, 4);
  h.writeUInt16BE(rrc, 6);
  h.writeBigUInt64BE(BigInt(seq), 8);
  return h;
}

/** An integrity-protected (not encrypted) Wrap token from us, the acceptor. */
export function wrap(ctx: GssContext, payload: Buffer): Buffer {
  const seq = ctx.sendSeq;
  ctx.sendSeq = (ctx.sendSeq + 1) % 2 ** 32;
  const mac = checksum(ctx.key, USAGE.acceptorSeal, Buffer.concat([payload, header(FLAG_SENT_BY_ACCEPTOR, 0, 0, seq)]));
  return Buffer.concat([header(FLAG_SENT_BY_ACCEPTOR, mac.length, 0, seq), payload, mac]);
}

/** Undoes a right rotation of `data` by `rrc` bytes. */
function unrotate(data: Buffer, rrc: number): Buffer {
  if (data.length === 0) return data;
  const r = rrc % data.length;
  return r === 0 ? data : Buffer.concat([data.subarray(r), data.subarray(0, r)]);
}

/** Verifies (and, if sealed, decrypts) a Wrap token from the initiator; returns its payload. */
export function unwrap(ctx: GssContext, token: Buffer): Buffer {
  if (token.length < 16 || token.readUInt16BE(0) !== TOK_WRAP || token[3] !== 0xff) throw new GssError('not an RFC 4121 Wrap token');
  const flags = token[2]!;
  if (flags & FLAG_SENT_BY_ACCEPTOR) throw new GssError('Wrap token claims to come from the acceptor (reflected?)');
  if (flags & FLAG_ACCEPTOR_SUBKEY) throw new GssError('Wrap token uses an acceptor subkey, and none was sent');
  const ec = token.readUInt16BE(4);
  const data = unrotate(token.subarray(16), token.readUInt16BE(6));
  const zeroed = Buffer.from(token.subarray(0, 16));
  zeroed.writeUInt32BE(0, 4);
  if (flags & FLAG_SEALED) {
    const plain = decrypt(ctx.key, USAGE.initiatorSeal, data);
    if (plain.length < ec + 16) throw new GssError('sealed Wrap token too short');
    const copy = Buffer.from(plain.subarray(plain.length - 16));
    copy.writeUInt16BE(0, 6);
    const expected = Buffer.from(token.subarray(0, 16));
    expected.writeUInt16BE(0, 6);
    if (!copy.equals(expected)) throw new GssError('sealed Wrap token header does not match its encrypted copy');
    return plain.subarray(0, plain.length - ec - 16);
  }
  if (ec !== checksumBytes(ctx.key) || data.length < ec) throw new GssError('Wrap token checksum of the wrong size');
  const payload = data.subarray(0, data.length - ec);
  const want = checksum(ctx.key, USAGE.initiatorSeal, Buffer.concat([payload, zeroed]));
  if (!timingSafeEqual(want, data.subarray(data.length - ec))) throw new GssError('Wrap token checksum does not verify');
  return payload;
}
