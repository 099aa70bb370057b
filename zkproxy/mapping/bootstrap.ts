/**
 * Bootstrap of the ZooKeeper key space (zk-protocol.md §2.8, §6.13): `/`, `/zookeeper`,
 * `/zookeeper/quota` and `/zookeeper/config` exist from the start, with ZooKeeper's ACLs and
 * Stat (zxids and times 0, root cversion -1 and numChildren 1, /zookeeper cversion -2), plus the
 * cluster secret for session passwords. Guarded, so any number of proxies may race to do it.
 */
import { randomBytes } from 'node:crypto';
import { KvBackend, KvOp } from '../backend/kv-backend';
import { Acl } from '../../protocol/jute';
import { READ_ACL_UNSAFE } from './acl-rules';
import { KeySchema } from './key-schema';
import { encodeAclValue, encodeCounterValue, encodeNodeValue } from './node-codec';

/**
 * Path, ACL (undefined: open, no ACL key), cversion offset (ZooKeeper reports cversion
 * 2×0 − numChildren for these) and aversion offset (DataTree sets /zookeeper/config's ACL with
 * version -1, so it reports aversion -1).
 */
const SYSTEM_NODES: [string, Acl[] | undefined, number, number][] = [
  ['/', undefined, -1, 0],
  ['/zookeeper', undefined, -2, 0],
  ['/zookeeper/quota', undefined, 0, 0],
  ['/zookeeper/config', READ_ACL_UNSAFE, 0, -1],
];

/** The puts creating the system nodes (without the secret). */
export function bootstrapOps(keys: KeySchema): KvOp[] {
  const ops: KvOp[] = [];
  for (const [path, acl, cOffset, aOffset] of SYSTEM_NODES) {
    const value = encodeNodeValue({ kind: 'system', version: 0, ctime: 0n, mtime: 0n, ttl: 0n, data: Buffer.alloc(0) });
    ops.push({ type: 'put', key: keys.nodeKey(path), value });
    if (acl) ops.push({ type: 'put', key: keys.aclKey(path), value: encodeAclValue(acl, aOffset) });
    // Children exist from the start here, so the child-change key does too (pzxid then 0).
    if (cOffset !== 0) ops.push({ type: 'put', key: keys.counterKey(path), value: encodeCounterValue(cOffset) });
  }
  return ops;
}

/** Creates the system nodes and the cluster secret if they are missing. */
export async function bootstrapKeySpace(backend: KvBackend, keys: KeySchema): Promise<void> {
  const ops = bootstrapOps(keys);
  await backend.txn({
    compare: [{ key: keys.nodeKey('/'), target: 'mod', result: 'equal', value: 0 }],
    // The last-change key too (ops/txn-plan.ts lastChange; not imported: mapping sits below ops).
    success: [...ops, { type: 'put', key: keys.errorKey(), value: Buffer.alloc(0) }],
    failure: [],
  });
  await backend.txn({
    compare: [{ key: keys.secretKey(), target: 'mod', result: 'equal', value: 0 }],
    success: [{ type: 'put', key: keys.secretKey(), value: randomBytes(32) }],
    failure: [],
  });
}
