/**
 * MIT keytab files (format version 0x502, what `kadmin ktadd`, `ktutil` and Active Directory's
 * `ktpass` write): the service's long-term keys, one entry per principal, key version and
 * encryption type. The server decrypts the tickets clients present with them.
 */
import type { KrbKey } from './krb-aes';

/** One key of a keytab. */
export interface KeytabEntry extends KrbKey {
  /** `name/instance@REALM`. */
  principal: string;
  /** The key version number (kvno). */
  kvno: number;
}

/**
 * Whether keytab principal `actual` is the configured `wanted`: `*` is any, and a name without
 * `@REALM` (as a JAAS file may give it, the JDK adding krb5.conf's default realm) matches that
 * name in any realm.
 */
export function principalMatches(wanted: string, actual: string): boolean {
  if (wanted === '*' || wanted === actual) return true;
  return !wanted.includes('@') && actual.slice(0, actual.lastIndexOf('@')) === wanted;
}

/** A keytab that cannot be parsed; the message says where. */
export class KeytabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeytabError';
  }
}

/** A bounds-checked big-endian cursor over one entry. */
class Cursor {
  constructor(
    private readonly b: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new KeytabError(`entry truncated at byte ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(): Buffer {
    const n = this.u16();
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  get left(): number {
    return this.end - this.pos;
  }
}

function readEntry(c: Cursor): KeytabEntry {
  const count = c.u16();
  const realm = c.bytes().toString('utf8');
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(c.bytes().toString('utf8'));
  c.u32(); // name type
  c.u32(); // timestamp
  let kvno = c.u8();
  const etype = c.u16();
  const key = Buffer.from(c.bytes());
  // A 32-bit kvno may follow (newer writers); when present and non-zero it wins over the byte.
  if (c.left >= 4) {
    const wide = c.u32();
    if (wide !== 0) kvno = wide;
  }
  return { principal: `${parts.join('/')}@${realm}`, kvno, etype, key };
}

/** Parses a whole keytab file. Deleted entries (holes) are skipped. */
export function parseKeytab(b: Buffer, source = 'keytab'): KeytabEntry[] {
  if (b.length < 2 || b[0] !== 0x05) throw new KeytabError(`${source}: not a keytab file (first byte must be 0x05)`);
  if (b[1] !== 0x02) throw new KeytabError(`${source}: keytab format version 0x05${b[1]!.toString(16).padStart(2, '0')} is not supported (only 0x0502)`);
  const out: KeytabEntry[] = [];
  let pos = 2;
  // Each entry consumes at least its 4-byte size, so this ends within b.length / 4 steps.
  while (pos + 4 <= b.length) {
    const size = b.readInt32BE(pos);
    pos += 4;
    if (size === 0) break;
    const len = Math.abs(size);
    if (pos + len > b.length) throw new KeytabError(`${source}: entry at byte ${pos - 4} runs past the end of the file`);
    if (size > 0) {
      try {
        out.push(readEntry(new Cursor(b, pos, pos + len)));
      } catch (e) {
        if (e instanceof KeytabError) throw new KeytabError(`${source}: ${e.message}`);
        throw e;
      }
    }
    pos += len;
  }
  return out;
}
