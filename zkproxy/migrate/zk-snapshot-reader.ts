/**
 * Reads a ZooKeeper snapshot file (FileSnap, version 2): its znodes as persisted. Layout, all jute: a FileHeader (magic "ZKSN", version, dbid); the sessions (count, then
 * id and timeout each); the ACL cache (count, then a long key and an ACL vector each); the
 * znodes in tree order, each a path then its DataNode (data buffer, ACL key, StatPersisted),
 * the root first with path "" and the path "/" ending the list (a node's ACL key is -1 for the
open ACL, else a key of the cache); then the seal: the Adler-32 of
 * every byte before it as a long, and "/" again. Digest and zxid sections after the seal
 * (ZooKeeper 3.6+) are not needed and not read.
 */
import { Acl, JuteReader, Stat, isJuteDecodeError, readAclList } from '../../protocol/jute';
import { OPEN_ACL_UNSAFE } from '../mapping/acl-rules';
import { adler32 } from './adler32';
import { ZkDataFileError } from './zk-data-file-error';

const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
/** The ACL key of the open ACL, which the cache does not hold (ReferenceCountedACLCache). */
const OPEN_ACL_KEY = -1n;

/**
 * A znode as a snapshot persists it (StatPersisted): the Stat's fields but the data length and
 * child count, with `cversion` counting the creates under it (a client sees 2 × this −
 * numChildren) and `owner` the raw ephemeralOwner.
 */
export interface PersistedNode extends Omit<Stat, 'dataLength' | 'numChildren' | 'ephemeralOwner'> {
  /** Its path ("" for the root). */
  path: string;
  data: Buffer | null;
  acl: readonly Acl[];
  /** The session of an ephemeral, 0, or a container or TTL marker (special-node.ts). */
  owner: bigint;
}

/** What a snapshot holds. */
export interface SnapshotContents {
  /** Its znodes, parents before children. */
  nodes: PersistedNode[];
  /** The sessions open when it was taken: id → timeout in ms. */
  sessions: Map<bigint, number>;
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
    const sessions = new Map<bigint, number>();
    for (let n = r.readInt('sessions'); n > 0; n--) sessions.set(r.readLong('session id'), r.readInt('session timeout'));
    const acls = new Map<bigint, readonly Acl[]>([[OPEN_ACL_KEY, OPEN_ACL_UNSAFE]]);
    for (let n = r.readInt('acl cache'); n > 0; n--) acls.set(r.readLong('acl key'), readAclList(r));
    const nodes = readNodes(r, acls, name);
    checkSeal(r, bytes, name);
    return { nodes, sessions };
  } catch (e) {
    if (isJuteDecodeError(e)) throw new ZkDataFileError(`${name} is cut short or damaged (${e.message})`);
    throw e;
  }
}

function readNodes(r: JuteReader, acls: Map<bigint, readonly Acl[]>, name: string): PersistedNode[] {
  const nodes: PersistedNode[] = [];
  for (let path = r.readString('path'); path !== '/'; path = r.readString('path')) {
    const data = r.readBuffer('data');
    const aclKey = r.readLong('acl');
    const acl = acls.get(aclKey);
    if (acl === undefined) throw new ZkDataFileError(`${name}: znode ${path || '/'} refers to ACL ${aclKey}, which the snapshot does not hold`);
    nodes.push({
      path, data, acl,
      czxid: r.readLong('czxid'), mzxid: r.readLong('mzxid'), ctime: r.readLong('ctime'), mtime: r.readLong('mtime'),
      version: r.readInt('version'), cversion: r.readInt('cversion'), aversion: r.readInt('aversion'),
      owner: r.readLong('ephemeralOwner'), pzxid: r.readLong('pzxid'),
    });
  }
  return nodes;
}

/** The seal: the Adler-32 of every byte before it, then the path "/". */
function checkSeal(r: JuteReader, bytes: Buffer, name: string): void {
  const sum = adler32(bytes, 0, r.offset());
  const sealed = r.readLong('seal');
  if (r.readString('seal path') !== '/' || sealed !== BigInt(sum)) throw new ZkDataFileError(`${name} fails its checksum (damaged, or still being written)`);
}
