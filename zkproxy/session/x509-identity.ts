/**
 * The identity ZooKeeper's x509 scheme gives a client certificate: its subject as Java's
 * `X500Principal.getName()` prints it (RFC 2253), which is what X509AuthenticationProvider adds
 * as `x509:<name>` and what ACLs with the x509 scheme must equal. Node prints subjects its own
 * way (OpenSSL names, DER order), so the subject is read from the certificate's DER here:
 *
 * - relative names in reverse order of the certificate, joined by ',' (RFC 2253 §2.1);
 * - the RFC 2253 keywords (CN, C, L, ST, O, OU, STREET, DC, UID) by name, any other attribute as
 *   its dotted OID with `#` and the hex of its DER value (§2.3, §2.4: emailAddress, serialNumber…);
 * - values escaped as Java does it, a superset of §2.4: a backslash before each of `,=+<>#;"\`
 *   wherever it is and before each leading or trailing space or CR, and NUL as `\00`.
 *
 * The several values of a multi-valued relative name keep the certificate's order.
 */

/** OID (dotted) → RFC 2253 keyword. */
const KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'], ['2.5.4.6', 'C'], ['2.5.4.7', 'L'], ['2.5.4.8', 'ST'], ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'], ['2.5.4.9', 'STREET'], ['0.9.2342.19200300.100.1.25', 'DC'], ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** A certificate that is not the DER this reader expects. */
export class X509ParseError extends Error {}

/** One DER element: its tag, where its content starts and ends, and where it ends in full. */
interface Der {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readDer(buf: Buffer, at: number, limit: number): Der {
  if (at + 2 > limit) throw new X509ParseError('truncated DER element');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new X509ParseError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > limit) throw new X509ParseError('DER element overruns its parent');
  return { tag, start: at, contentStart: p, end: p + len };
}

/** The children of a constructed element. */
function children(buf: Buffer, el: Der): Der[] {
  const out: Der[] = [];
  for (let p = el.contentStart; p < el.end;) {
    const c = readDer(buf, p, el.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidString(buf: Buffer, el: Der): string {
  const bytes = buf.subarray(el.contentStart, el.end);
  if (bytes.length === 0) throw new X509ParseError('empty OID');
  const first = Math.min(2, Math.floor(bytes[0]! / 40));
  const parts = [first, bytes[0]! - 40 * first];
  let v = 0;
  for (let i = 1; i < bytes.length; i++) {
    v = v * 128 + (bytes[i]! & 0x7f);
    if ((bytes[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The text of a directory string (UTF8, Printable, IA5, Teletex as latin1, BMP, Universal). */
function stringValue(buf: Buffer, el: Der): string | undefined {
  const content = buf.subarray(el.contentStart, el.end);
  switch (el.tag) {
    case 0x0c: return content.toString('utf8');
    case 0x13: case 0x16: case 0x14: return content.toString('latin1');
    case 0x1e: return content.length % 2 === 0 ? Buffer.from(content).swap16().toString('utf16le') : undefined;
    case 0x1c: {
      let s = '';
      for (let i = 0; i + 3 < content.length; i += 4) s += String.fromCodePoint(content.readUInt32BE(i));
      return s;
    }
    default: return undefined;
  }
}

/** An attribute value escaped as Java's `AVA.toRFC2253String` escapes it. */
export function escapeRfc2253(value: string): string {
  const escaped = value.replace(/[,=+<>#;"\\\0]/g, (c) => (c === '\0' ? '\\00' : `\\${c}`));
  const lead = /^[ \r]*/.exec(escaped)![0].length;
  const body = escaped.slice(lead).replace(/[ \r]+$/, '');
  const ws = (part: string): string => part.replace(/[ \r]/g, (c) => `\\${c}`);
  return ws(escaped.slice(0, lead)) + body + ws(escaped.slice(lead + body.length));
}

function attribute(buf: Buffer, ava: Der): string {
  const [type, value] = children(buf, ava);
  if (!type || !value || type.tag !== 0x06) throw new X509ParseError('bad attribute');
  const oid = oidString(buf, type);
  const keyword = KEYWORDS.get(oid);
  const text = keyword === undefined ? undefined : stringValue(buf, value);
  if (keyword === undefined || text === undefined) return `${oid}=#${buf.subarray(value.start, value.end).toString('hex')}`;
  return `${keyword}=${escapeRfc2253(text)}`;
}

/**
 * The subject of a DER certificate as ZooKeeper's x509 scheme names it. Throws
 * {@link X509ParseError} for DER it cannot read.
 */
export function x509SubjectName(der: Buffer): string {
  const cert = readDer(der, 0, der.length);
  const [tbs] = children(der, cert);
  if (!tbs) throw new X509ParseError('no TBSCertificate');
  const fields = children(der, tbs);
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  if (!subject || subject.tag !== 0x30) throw new X509ParseError('no subject');
  const rdns = children(der, subject).map((set) => children(der, set).map((ava) => attribute(der, ava)).join('+'));
  return rdns.reverse().join(',');
}

/** Keywords `new X500Principal(String)` accepts as attribute types (case-insensitive). */
const PARSE_KEYWORDS = new Set([
  'CN', 'C', 'L', 'S', 'ST', 'O', 'OU', 'T', 'IP', 'STREET', 'DC', 'DNQUALIFIER', 'DNQ', 'SURNAME', 'GIVENNAME',
  'INITIALS', 'GENERATION', 'EMAIL', 'EMAILADDRESS', 'UID', 'SERIALNUMBER',
]);

/** One attribute value from `at`: quoted, `#hex`, or plain with escapes; its end, or -1 when malformed. */
function scanValue(dn: string, at: number): number {
  let i = at;
  while (dn[i] === ' ') i++;
  if (dn[i] === '"') {
    for (i++; i < dn.length && dn[i] !== '"'; i++) if (dn[i] === '\\' && ++i >= dn.length) return -1;
    return i < dn.length ? i + 1 : -1;
  }
  if (dn[i] === '#') {
    const m = /^#((?:[0-9A-Fa-f]{2})+)/.exec(dn.slice(i));
    return m ? i + m[0].length : -1;
  }
  for (; i < dn.length && !',;+'.includes(dn[i]!); i++) {
    if (dn[i] !== '\\') continue;
    const next = dn.slice(i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(next)) i += 2;
    else if (next !== '' && ',=+<>#;"\\ '.includes(next[0]!)) i += 1;
    else return -1;
  }
  return i;
}

/**
 * Whether `new X500Principal(dn)` would accept `dn` (X509AuthenticationProvider.isValid):
 * empty, or `type=value` pairs separated by ',', ';' or '+', the type a keyword it knows or an
 * OID (`2.5.4.3`, `OID.2.5.4.3`), the value quoted, `#` and hex, or text whose backslashes
 * escape a special character or a hex pair.
 */
export function isValidX500Name(dn: string): boolean {
  if (dn.trim() === '') return true;
  let i = 0;
  for (;;) {
    const eq = dn.indexOf('=', i);
    if (eq < 0) return false;
    const type = dn.slice(i, eq).trim();
    const oid = /^(?:OID\.)?\d+(?:\.\d+)+$/i.test(type);
    if (!oid && !PARSE_KEYWORDS.has(type.toUpperCase())) return false;
    const end = scanValue(dn, eq + 1);
    if (end < 0) return false;
    i = end;
    while (dn[i] === ' ') i++;
    if (i >= dn.length) return true;
    if (!',;+'.includes(dn[i]!)) return false;
    i++;
  }
}
