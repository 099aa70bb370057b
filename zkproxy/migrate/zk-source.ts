/**
 * `NodeSource`: a ZooKeeper read as a client, one znode at a time, for the copy in
 * zk-migration.ts: its data with its Stat, its ACL and its children. A node
 * deleted meanwhile reads as undefined; any other error stops the copy with the path and the
 * ZooKeeper error.
 */
import { Acl, Stat, ZkErr, errName } from '../../protocol/jute';
import { ZkWireClient } from '../dispatch/zk-wire-client';

/** The copy cannot go on: says where and what to do. */
export class MigrationError extends Error {}

/** The error for a source reply that is neither OK nor NONODE. */
function readFailure(path: string, err: number): MigrationError {
  const hint = err === ZkErr.NOAUTH ? ' (give --from-auth with an identity that may read it, e.g. the super digest)' : '';
  return new MigrationError(`cannot read ${path} on the source ZooKeeper: ${errName(err)}${hint}`);
}

/** One znode as the source has it. */
export interface SourceNode {
  stat: Stat;
  data: Buffer | null;
  acl: Acl[];
  children: string[];
}

/** Where a copy reads the source's znodes: a live ZooKeeper ({@link NodeSource}) or its files (zk-image.ts). */
export interface NodeReader {
  /** The node at `path` (data and Stat, ACL, children), or undefined when it does not exist. */
  read(path: string): Promise<SourceNode | undefined>;
  /** The newest zxid the source has shown: its last txn's (files), the highest in its replies so far (live). */
  readonly lastZxid: bigint;
  /** Its open sessions, id → timeout in ms, when it can tell them (its files can; a live ZooKeeper cannot). */
  openSessions?(): ReadonlyMap<bigint, number>;
}

/** Reads znodes of a live source through one session. */
export class NodeSource implements NodeReader {
  /** The highest header zxid of the source's replies: its last processed zxid when it answered. */
  lastZxid = 0n;

  constructor(private readonly client: ZkWireClient) {}

  /** The node at `path` (data and Stat, ACL, children), or undefined when it does not exist. */
  async read(path: string): Promise<SourceNode | undefined> {
    const [data, acl, children] = await Promise.all([
      this.client.send({ op: 'getData', path, watch: false }),
      this.client.send({ op: 'getACL', path }),
      this.client.send({ op: 'getChildren', path, watch: false }),
    ]);
    for (const r of [data, acl, children]) {
      if (r.header.zxid > this.lastZxid) this.lastZxid = r.header.zxid;
      if (r.header.err === ZkErr.NONODE) return undefined;
      if (r.header.err !== ZkErr.OK) throw readFailure(path, r.header.err);
    }
    if (data.body?.op !== 'getData' || acl.body?.op !== 'getACL' || children.body?.op !== 'getChildren') throw readFailure(path, ZkErr.MARSHALLINGERROR);
    return { stat: data.body.stat, data: data.body.data, acl: acl.body.acl, children: children.body.children };
  }
}
