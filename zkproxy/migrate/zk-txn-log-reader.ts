/**
 * Reads a ZooKeeper transaction log file (FileTxnLog, version 2) for the container and TTL
 * znodes it creates. Layout: a FileHeader (magic "ZKLG", version, dbid), then records, each the
 * Adler-32 of its entry as a long, the entry as a jute buffer, and the byte 'B'; a zero length
 * ends the log (the file is preallocated with zeros). An entry is a TxnHeader (clientId, cxid,
 * zxid, time, type) and the txn of that type; a multi holds its txns as (type, bytes) pairs.
 * A failed multi is logged with error txns only, so it creates nothing here either.
 */
import { JuteReader, OpCode, isJuteDecodeError, readAclList } from '../../protocol/jute';
import { adler32 } from './adler32';
import { SpecialNode } from './special-node';
import { ZkDataFileError } from './zk-data-file-error';

const LOG_MAGIC = 0x5a4b4c47; // "ZKLG"
const END_OF_RECORD = 0x42; // 'B'

/** What a log holds that a copy needs. */
export interface TxnLogContents {
  /** The container and TTL znodes its txns create, in log order. */
  special: SpecialNode[];
  /** Txns read. */
  txns: number;
  /** Entries whose checksum held but whose container or TTL create did not parse (reported, not guessed at). */
  unreadable: number;
  /** Why reading stopped before the log's end marker, when it did (a torn or damaged tail). */
  damage?: string;
}

/**
 * Reads the bytes of a log. Throws {@link ZkDataFileError} for a file that is not a log; a
 * header or record cut short, or a record failing its checksum, ends the reading there
 * (`damage` says so), as ZooKeeper treats a partial last record.
 */
export function readTxnLog(bytes: Buffer, name: string): TxnLogContents {
  const r = new JuteReader(bytes, bytes.length);
  const out: TxnLogContents = { special: [], txns: 0, unreadable: 0 };
  try {
    const magic = r.readInt('magic');
    if (magic !== LOG_MAGIC) throw new ZkDataFileError(`${name} is not a ZooKeeper transaction log (magic ${magic.toString(16)})`);
    r.readInt('version');
    r.readLong('dbid');
  } catch (e) {
    // A crash right after ZooKeeper created the file leaves it shorter than its header.
    if (isJuteDecodeError(e)) return { ...out, damage: `${name} ends inside its header` };
    throw e;
  }
  while (r.remaining() > 0) {
    const step = readRecord(r, name);
    if (step === 'end') break;
    if (typeof step === 'string') {
      out.damage = step;
      break;
    }
    out.txns++;
    if (!readEntry(step, out.special)) out.unreadable++;
  }
  return out;
}

/** The next entry's bytes; 'end' at the end marker; a message for a torn or damaged record. */
function readRecord(r: JuteReader, name: string): Buffer | string {
  const at = r.offset();
  try {
    if (r.remaining() < 12) return 'end';
    const crc = r.readLong('crc');
    const entry = r.readBuffer('txn entry');
    if (entry === null || entry.length === 0) return 'end';
    if (r.readByte('end of record') !== END_OF_RECORD) return `${name}: partial record at offset ${at}`;
    if (crc !== BigInt(adler32(entry))) return `${name}: record at offset ${at} fails its checksum`;
    return entry;
  } catch (e) {
    if (isJuteDecodeError(e)) return `${name}: record at offset ${at} is cut short`;
    throw e;
  }
}

/**
 * Collects what one entry creates: a container or TTL znode, or several inside a multi. False
 * when the entry does not parse as the txn its type names.
 */
function readEntry(entry: Buffer, into: SpecialNode[]): boolean {
  const r = new JuteReader(entry, entry.length);
  try {
    r.readLong('clientId');
    r.readInt('cxid');
    const zxid = r.readLong('zxid');
    r.readLong('time');
    const type = r.readInt('type');
    if (type === OpCode.multi) {
      const subs = r.readVector((v) => ({ type: v.readInt('type'), data: v.readBuffer('data') }), 'txns', 8) ?? [];
      for (const s of subs) if (s.data) readCreate(new JuteReader(s.data, s.data.length), s.type, zxid, into);
    } else readCreate(r, type, zxid, into);
    return true;
  } catch (e) {
    if (!isJuteDecodeError(e)) throw e;
    return false;
  }
}

/** A createContainer or createTTL txn (CreateContainerTxn, CreateTTLTxn); other types are skipped. */
function readCreate(r: JuteReader, type: number, czxid: bigint, into: SpecialNode[]): void {
  if (type !== OpCode.createContainer && type !== OpCode.createTTL) return;
  const path = r.readString('path');
  r.skipBuffer('data');
  readAclList(r);
  r.readInt('parentCVersion');
  if (type === OpCode.createTTL) into.push({ path, czxid, kind: 'ttl', ttl: r.readLong('ttl') });
  else into.push({ path, czxid, kind: 'container', ttl: 0n });
}
