/**
 * Reads a ZooKeeper snapshot file (FileSnap, version 2) for the container and TTL znodes it
 * holds. Layout, all jute: a FileHeader (magic "ZKSN", version, dbid); the sessions (count, then
 * id and timeout each); the ACL cache (count, then a long key and an ACL vector each); the
 * znodes in tree order, each a path then its DataNode (data buffer, ACL key, StatPersisted),
 * the root first with path "" and the path "/" ending the list; then the seal: the Adler-32 of
 * every byte before it as a long, and "/" again. Digest and zxid sections after the seal
 * (ZooKeeper 3.6+) are not needed and not read.
 */
import { JuteReader, isJuteDecodeError, readAclList } from '../../protocol/jute';
import { adler32 } from './adler32';
import { SpecialNode, specialKindOf } from './special-node';
import { ZkDataFileError } from './zk-data-file-error';

const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"

/** What a snapshot holds that a copy needs. */
export interface SnapshotContents {
  /** Its container and TTL znodes. */
  special: SpecialNode[];
  /** How many znodes it holds in all. */
  znodes: number;
}

/**
 * Reads the (uncompressed) bytes of a snapshot. Throws {@link ZkDataFileError} for a file that
 * is not a snapshot, is cut short (ZooKeeper was still writing it) or fails its seal.
 */
export function readSnapshot(bytes: Buffer, name: string): SnapshotContents {
  const r = new JuteReader(bytes, bytes.length);
  try {
    const magic = r.readInt('magic');
    if (magic !== SNAP_MAGIC) throw new ZkDataFileError(`${name} is not a ZooKeeper snapshot (magic ${magic.toString(16)})`);
    r.readInt('version');
    r.readLong('dbid');
    for (let n = r.readInt('sessions'); n > 0; n--) {
      r.readLong('session id');
      r.readInt('session timeout');
    }
    for (let n = r.readInt('acl cache'); n > 0; n--) {
      r.readLong('acl key');
      readAclList(r);
    }
    const contents = readNodes(r);
    checkSeal(r, bytes, name);
    return contents;
  } catch (e) {
    if (isJuteDecodeError(e)) throw new ZkDataFileError(`${name} is cut short or damaged (${e.message})`);
    throw e;
  }
}

function readNodes(r: JuteReader): SnapshotContents {
  const special: SpecialNode[] = [];
  let znodes = 0;
  for (let path = r.readString('path'); path !== '/'; path = r.readString('path')) {
    znodes++;
    r.skipBuffer('data');
    r.readLong('acl');
    const czxid = r.readLong('czxid');
    r.readLong('mzxid');
    r.readLong('ctime');
    r.readLong('mtime');
    r.readInt('version');
    r.readInt('cversion');
    r.readInt('aversion');
    const owner = r.readLong('ephemeralOwner');
    r.readLong('pzxid');
    const kind = specialKindOf(owner);
    if (kind) special.push({ path, czxid, ...kind });
  }
  return { special, znodes };
}

/** The seal: the Adler-32 of every byte before it, then the path "/". */
function checkSeal(r: JuteReader, bytes: Buffer, name: string): void {
  const sum = adler32(bytes, 0, r.offset());
  const sealed = r.readLong('seal');
  if (r.readString('seal path') !== '/' || sealed !== BigInt(sum)) throw new ZkDataFileError(`${name} fails its checksum (damaged, or still being written)`);
}
