/**
 * The znode ↔ key encoding (DESIGN §5, zk-protocol.md §3.3 for zetcd's precedent). Every key
 * lives under one prefix (default `/zk/`) so one ordered watch covers the whole ZooKeeper
 * space. Keys are readable text, unlike zetcd's binary scheme (zetcd#23, #52):
 *
 * - `<p>n/<depth:4 digits><path>` — the node: data plus a header (node-codec.ts). The depth
 *   prefix makes "children of P" one contiguous range: depth(P)+1 and prefix `P/`.
 *   Its createRevision is czxid, its modRevision is mzxid, its lease marks an ephemeral.
 * - `<p>a<path>` — the ACL list (absent for the open ACL, the common case); aversion is its
 *   version − 1 plus an offset in its value. Separate so setACL leaves mzxid alone.
 * - `<p>c<path>` — the child-change key, absent until the first child change: every child
 *   create or delete puts it, so its modRevision is pzxid and its version − 1 (+ an offset kept
 *   in its value) is cversion; the create counter behind sequential names is
 *   (cversion + numChildren) / 2. Absent: pzxid = czxid, cversion = 0.
 * A plain create therefore writes the node and its parent's child-change key (and, as every
 * ZooKeeper transaction, the last-change key below).
 * - `<p>s/<id:16 hex>` — a session record, attached to the session's lease.
 * - `<p>q/<id:16 hex>` — a session's write-chain key, attached to its lease: a write pipelined
 *   behind another of its connection commits only if this key still holds the value the one
 *   before it put (ops/write-chain.ts).
 * - `<p>e` — the last-change key: every ZooKeeper transaction puts it, so a failed write
 *   spends a zxid as ZooKeeper's error txn does (§2.4), and its modRevision is the latest
 *   ZooKeeper revision (the change feed's catch-up barrier). Its value is empty, or a multi's
 *   change script when the multi changed a path twice (change-script.ts).
 * - `<p>secret` — the cluster secret from which session passwords are derived.
 * - `<p>zxid-base` — what clients' zxids add to the revisions (zxid-base.ts); absent = 0.
 */
import { depth } from './path-rules';

/** Key builders and parsers for one prefix. */
export class KeySchema {
  readonly prefix: string;
  private readonly nodePrefix: string;
  private readonly prefixKey: Buffer;
  private readonly prefixBytes: number;

  /** @param prefix the key prefix; must end with '/' */
  constructor(prefix = '/zk/') {
    if (!prefix.endsWith('/')) throw new Error(`key prefix must end with '/': ${prefix}`);
    this.prefix = prefix;
    this.nodePrefix = `${prefix}n/`;
    this.prefixKey = Buffer.from(prefix, 'utf8');
    this.prefixBytes = this.prefixKey.length;
  }

  /** The node key of `path`. */
  nodeKey(path: string): Buffer {
    return Buffer.from(`${this.nodePrefix}${pad4(depth(path))}${path}`, 'utf8');
  }

  /** The ACL key of `path`. */
  aclKey(path: string): Buffer {
    return Buffer.from(`${this.prefix}a${path}`, 'utf8');
  }

  /** The child-counter key of `path`. */
  counterKey(path: string): Buffer {
    return Buffer.from(`${this.prefix}c${path}`, 'utf8');
  }

  /** The session record key of session `id`. */
  sessionKey(id: bigint): Buffer {
    return Buffer.from(`${this.prefix}s/${idHex(id)}`, 'utf8');
  }

  /** The write-chain key of session `id` (ops/write-chain.ts). */
  chainKey(id: bigint): Buffer {
    return Buffer.from(`${this.prefix}q/${idHex(id)}`, 'utf8');
  }

  /** The key a failed write puts to spend a revision. */
  errorKey(): Buffer {
    return Buffer.from(`${this.prefix}e`, 'utf8');
  }

  /** The cluster-secret key. */
  secretKey(): Buffer {
    return Buffer.from(`${this.prefix}secret`, 'utf8');
  }

  /** The zxid-base key (zxid-base.ts). */
  zxidBaseKey(): Buffer {
    return Buffer.from(`${this.prefix}zxid-base`, 'utf8');
  }

  /** The whole key space as a range [start, end). */
  range(): { key: Buffer; rangeEnd: Buffer } {
    const key = Buffer.from(this.prefix, 'utf8');
    return { key, rangeEnd: prefixEnd(key) };
  }

  /** What a key of this schema is, and for node/acl/counter keys which path. */
  classify(key: Buffer): KeyKind {
    const pb = this.prefixBytes;
    if (key.length <= pb || this.prefixKey.compare(key, 0, pb) !== 0) return { kind: 'other' };
    // Read from the bytes, and only the path decoded: the replica keeps paths for the znode's
    // life, and a path sliced from the decoded key would keep the whole key string alive too.
    const tag = key[pb];
    if (key[pb + 1] === SLASH) {
      if (tag === N && key.length >= pb + 7) return { kind: 'node', path: key.toString('utf8', pb + 6) };
      if (tag === A) return { kind: 'acl', path: key.toString('utf8', pb + 1) };
      if (tag === C) return { kind: 'counter', path: key.toString('utf8', pb + 1) };
      if (tag === S) {
        const hex = key.toString('latin1', pb + 2);
        // A foreign key under our prefix is "other", never an exception in the change feed.
        return HEX_ID.test(hex) ? { kind: 'session', id: BigInt.asIntN(64, BigInt(`0x${hex}`)) } : { kind: 'other' };
      }
    }
    const rest = key.toString('utf8', pb);
    if (rest === 'e') return { kind: 'error' };
    if (rest === 'secret') return { kind: 'secret' };
    if (rest === 'zxid-base') return { kind: 'zxidBase' };
    return { kind: 'other' };
  }
}

/** A session id as it appears in keys: 16 lowercase hex digits of its unsigned 64 bits. */
function idHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, '0');
}

const SLASH = 0x2f;
const N = 0x6e;
const A = 0x61;
const C = 0x63;
const S = 0x73;
const HEX_ID = /^[0-9a-f]{1,16}$/;

/** The meaning of one key. */
export type KeyKind =
  | { kind: 'node' | 'acl' | 'counter'; path: string }
  | { kind: 'session'; id: bigint }
  | { kind: 'error' | 'secret' | 'zxidBase' | 'other' };

function pad4(n: number): string {
  return n.toString().padStart(4, '0');
}

/** The smallest key greater than every key starting with `key` (etcd's prefix range end). */
export function prefixEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
