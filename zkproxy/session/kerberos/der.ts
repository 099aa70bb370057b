/**
 * The slice of ASN.1 DER that Kerberos messages use (RFC 4120 §5): definite lengths, one-byte
 * tags (universal, context and application classes below 31), SEQUENCEs of explicitly tagged
 * fields. The reader is bounds-checked: anything malformed is a {@link DerError}, never an
 * out-of-range read, because the bytes come from an unauthenticated client.
 */

/** Malformed DER, or a value of the wrong type where a field was expected. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** One decoded element: its identifier byte and a view of its contents. */
export interface Tlv {
  /** The identifier octet as sent (class, constructed bit and tag number). */
  tag: number;
  /** The contents (a view into the input, not a copy). */
  value: Buffer;
}

/** Identifier octets Kerberos uses. */
export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  generalString: 0x1b,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** The identifier of an explicit context tag `[n]` (constructed). */
function contextTag(n: number): number {
  return 0xa0 | n;
}

/** The identifier of `[APPLICATION n]` (constructed). */
export function applicationTag(n: number): number {
  return 0x60 | n;
}

/**
 * Reads the element at `pos`; returns it and the offset after it. Rejects long-form tags,
 * indefinite lengths and lengths past the end of `buf`.
 */
export function readTlv(buf: Buffer, pos = 0): { tlv: Tlv; end: number } {
  if (pos + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used by Kerberos');
  let len = buf[pos + 1]!;
  let at = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(n === 0 ? 'indefinite length' : 'length too large');
    if (at + n > buf.length) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + i]!;
    at += n;
  }
  if (at + len > buf.length) throw new DerError('element runs past its container');
  return { tlv: { tag, value: buf.subarray(at, at + len) }, end: at + len };
}

/** The elements of a constructed value's contents, in order. */
export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  // Each element takes at least two bytes, so this ends within value.length / 2 steps.
  while (pos < value.length) {
    const { tlv, end } = readTlv(value, pos);
    out.push(tlv);
    pos = end;
  }
  return out;
}

/**
 * The explicitly tagged fields of a SEQUENCE's contents: `[n]` → the one element inside it.
 * Duplicate or non-context fields are errors.
 */
export function fields(seqContents: Buffer, what: string): Map<number, Tlv> {
  const out = new Map<number, Tlv>();
  for (const c of children(seqContents)) {
    if ((c.tag & 0xe0) !== 0xa0) throw new DerError(`${what}: expected a context-tagged field, found tag 0x${c.tag.toString(16)}`);
    const n = c.tag & 0x1f;
    if (out.has(n)) throw new DerError(`${what}: field [${n}] appears twice`);
    const { tlv, end } = readTlv(c.value);
    if (end !== c.value.length) throw new DerError(`${what}: field [${n}] holds more than one element`);
    out.set(n, tlv);
  }
  return out;
}

/** Field `[n]` of `f`, which must be present. */
export function required(f: Map<number, Tlv>, n: number, what: string): Tlv {
  const t = f.get(n);
  if (!t) throw new DerError(`${what}: field [${n}] is missing`);
  return t;
}

function expectTag(t: Tlv, tag: number, what: string): Buffer {
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t.value;
}

/** An INTEGER that fits a JavaScript number exactly (Kerberos uses Int32 and UInt32). */
export function asInteger(t: Tlv, what: string): number {
  const v = expectTag(t, TAG.integer, what);
  if (v.length === 0 || v.length > 6) throw new DerError(`${what}: integer of ${v.length} bytes`);
  let n = v[0]! & 0x80 ? -1 : 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** An OCTET STRING's bytes (a view). */
export function asOctets(t: Tlv, what: string): Buffer {
  return expectTag(t, TAG.octetString, what);
}

/** A KerberosString (GeneralString restricted to IA5; decoded as UTF-8 as MIT does). */
export function asString(t: Tlv, what: string): string {
  return expectTag(t, TAG.generalString, what).toString('utf8');
}

/** A SEQUENCE's contents. */
export function asSequence(t: Tlv, what: string): Buffer {
  return expectTag(t, TAG.sequence, what);
}

/** A KerberosTime (GeneralizedTime `YYYYMMDDHHMMSSZ`) as milliseconds since the epoch. */
export function asTime(t: Tlv, what: string): number {
  const s = expectTag(t, TAG.generalizedTime, what).toString('latin1');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new DerError(`${what}: bad KerberosTime '${s}'`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** A BIT STRING's bit `n` (bit 0 is the most significant bit of the first byte). */
export function bitSet(t: Tlv, n: number, what: string): boolean {
  const v = expectTag(t, TAG.bitString, what);
  if (v.length === 0) throw new DerError(`${what}: empty bit string`);
  const byte = v[1 + (n >> 3)];
  return byte !== undefined && (byte & (0x80 >> (n & 7))) !== 0;
}

// --- writing ---

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An element with identifier `tag` around the concatenated `contents`. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

/** A SEQUENCE of explicitly tagged fields; undefined fields (OPTIONAL, absent) are left out. */
export function sequence(fieldsByTag: ReadonlyArray<Buffer | undefined>): Buffer {
  const parts: Buffer[] = [];
  fieldsByTag.forEach((f, n) => {
    if (f) parts.push(tlv(contextTag(n), f));
  });
  return tlv(TAG.sequence, ...parts);
}

/** An INTEGER (minimal two's complement), for values within ±2^47. */
export function integer(n: number): Buffer {
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${n} out of range`);
  const bytes: number[] = [];
  let v = n;
  for (;;) {
    bytes.unshift(((v % 256) + 256) % 256);
    v = Math.floor(v / 256);
    const top = bytes[0]! & 0x80;
    if ((v === 0 && !top) || (v === -1 && top)) break;
  }
  return tlv(TAG.integer, Buffer.from(bytes));
}

/** An OCTET STRING. */
export function octets(b: Buffer): Buffer {
  return tlv(TAG.octetString, b);
}

/** A KerberosTime for `ms` (whole seconds; the sub-second part goes in a separate usec field). */
export function time(ms: number): Buffer {
  const s = new Date(ms).toISOString();
  return tlv(TAG.generalizedTime, Buffer.from(`${s.slice(0, 4)}${s.slice(5, 7)}${s.slice(8, 10)}${s.slice(11, 13)}${s.slice(14, 16)}${s.slice(17, 19)}Z`, 'latin1'));
}
