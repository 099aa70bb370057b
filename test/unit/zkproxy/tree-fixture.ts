/** Builds a ZnodeTree directly from key puts (no backend): the fixture of the mapping tests. */
import { Acl } from '../../../protocol/jute';
import { KvPair } from '../../../zkproxy/backend/kv-backend';
import { KeySchema } from '../../../zkproxy/mapping/key-schema';
import { NodeKind, encodeAclValue, encodeCounterValue, encodeNodeValue } from '../../../zkproxy/mapping/node-codec';
import { ZnodeTree } from '../../../zkproxy/mapping/znode-tree';

export const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** One node to put. */
export interface FixtureNode {
  path: string;
  data?: string;
  acl?: Acl[];
  owner?: bigint;
  kind?: NodeKind;
  counter?: number;
}

/** A tree holding "/" plus `nodes`, each put at its own revision. */
export function treeWith(nodes: FixtureNode[]): ZnodeTree {
  const keys = new KeySchema();
  const tree = new ZnodeTree(keys);
  let rev = 1;
  const put = (key: Buffer, value: Buffer, lease: bigint): void => {
    rev++;
    const kv: KvPair = { key, value, createRevision: rev, modRevision: rev, version: 1, lease };
    tree.apply('put', kv);
  };
  for (const n of [{ path: '/', kind: 'system' as NodeKind }, ...nodes]) {
    const lease = n.owner ?? 0n;
    put(keys.nodeKey(n.path), encodeNodeValue({ kind: n.kind ?? 'plain', version: 0, ctime: 1n, mtime: 1n, ttl: 0n, data: n.data === undefined ? null : Buffer.from(n.data) }), lease);
    put(keys.aclKey(n.path), encodeAclValue(n.acl ?? OPEN), lease);
    // `counter` creates with no children left: cversion = 2 × creates (offset on a version-1 key).
    put(keys.counterKey(n.path), encodeCounterValue(2 * (n.counter ?? 0)), lease);
  }
  tree.revision = rev;
  return tree;
}
