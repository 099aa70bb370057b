/**
 * Reads a ZooKeeper transaction log file (FileTxnLog, version 2). Layout: a FileHeader (magic
 * "ZKLG", version, dbid), then records, each the Adler-32 of its entry as a long, the entry as a
 * jute buffer, and the byte 'B'; a zero length ends the log (the file is preallocated with
 * zeros). The entries are decoded by zk-txn.ts.
 */
import { JuteReader, isJuteDecodeError } from '../../protocol/jute';
import { adler32 } from './adler32';
import { LoggedTxn, decodeTxnEntry } from './zk-txn';
import { ZkDataFileError } from './zk-data-file-error';

const LOG_MAGIC = 0x5a4b4c47; // "ZKLG"
const END_OF_RECORD = 0x42; // 'B'

/** What a log holds. */
export interface TxnLogContents {
  /** Its txns, in log order. */
  txns: LoggedTxn[];
  /** Entries whose checksum held but that did not parse as the txn their type names (left out). */
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
  const out: TxnLogContents = { txns: [], unreadable: 0 };
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
    const txn = readEntry(step);
    if (txn) out.txns.push(txn);
    else out.unreadable++;
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

/** The entry's txn; undefined when it does not parse as the txn its type names. */
function readEntry(entry: Buffer): LoggedTxn | undefined {
  try {
    return decodeTxnEntry(entry);
  } catch (e) {
    if (!isJuteDecodeError(e)) throw e;
    return undefined;
  }
}
