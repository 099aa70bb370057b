/**
 * Bootstrap of the ZooKeeper key space (zk-protocol.md §2.8, §6.13): `/`, `/zookeeper`,
 * `/zookeeper/quota` and `/zookeeper/config` exist from the start, with ZooKeeper's ACLs and
 * Stat (zxids and times 0, root cversion -1 and numChildren 1, /zookeeper cversion -2), plus the
 * cluster secret for session passwords. Guarded, so any number of proxies may race to do it.
 */
import { randomBytes } from 'node:crypto';
import { KvBackend, KvOp } from '../backend/kv-backend';
import { Acl } from '../../protocol/jute';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl-rules';
import { KeySchema } from './key-schema';
import { encodeAclValue, encodeCounterValue, encodeNodeValue } from './node-codec';

/** Path, ACL, and cversion offset (ZooKeeper reports cversion 2×0 − numChildren for these). */
const SYSTEM_NODES: [string, Acl[], number][] = [
  ['/', OPEN_ACL_UNSAFE, -1],
  ['/zookeeper', OPEN_ACL_UNSAFE, -2],
  ['/zookeeper/quota', OPEN_ACL_UNSAFE, 0],
  ['/zookeeper/config', READ_ACL_UNSAFE, 0],
];

/** Creates the system nodes and the cluster secret if they are missing. */
export async function bootstrapKeySpace(backend: KvBackend, keys: KeySchema): Promise<void> {
  const ops: KvOp[] = [];
  for (const [path, acl, offset] of SYSTEM_NODES) {
    const value = encodeNodeValue({ kind: 'system', version: 0, ctime: 0n, mtime: 0n, ttl: 0n, data: Buffer.alloc(0) });
    ops.push({ type: 'put', key: keys.nodeKey(path), value });
    ops.push({ type: 'put', key: keys.aclKey(path), value: encodeAclValue(acl) });
    ops.push({ type: 'put', key: keys.counterKey(path), value: encodeCounterValue(offset) });
  }
  await backend.txn({
    compare: [{ key: keys.nodeKey('/'), target: 'mod', result: 'equal', value: 0 }],
    success: ops,
    failure: [],
  });
  await backend.txn({
    compare: [{ key: keys.secretKey(), target: 'mod', result: 'equal', value: 0 }],
    success: [{ type: 'put', key: keys.secretKey(), value: randomBytes(32) }],
    failure: [],
  });
}
