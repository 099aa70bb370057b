/**
 * What a client sees of a znode, for tests that compare two servers' copies of one (zk-migrate):
 * data and Stat without the zxids (a copy's are its own store's), optionally its ACL and
 * children.
 */
import assert from 'node:assert/strict';
import { Acl, Stat, ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

/** The znode's fields, or undefined when it does not exist; `full` adds the ACL and the sorted children. */
export async function znodeView(c: ZkWireClient, path: string, full = false): Promise<Record<string, unknown> | undefined> {
  const d = await c.send({ op: 'getData', path, watch: false });
  if (d.header.err === ZkErr.NONODE) return undefined;
  assert.equal(d.header.err, 0, `getData ${path}`);
  const stat = (d.body as { stat: Stat }).stat;
  const fields: Record<string, unknown> = {
    data: (d.body as { data: Buffer | null }).data?.toString('hex') ?? null,
    version: stat.version, aversion: stat.aversion, cversion: stat.cversion, ctime: stat.ctime, mtime: stat.mtime,
    ephemeralOwner: stat.ephemeralOwner, dataLength: stat.dataLength, numChildren: stat.numChildren,
  };
  if (!full) return fields;
  const a = await c.send({ op: 'getACL', path });
  const ch = await c.send({ op: 'getChildren', path, watch: false });
  return { ...fields, acl: (a.body as { acl: Acl[] }).acl, children: [...(ch.body as { children: string[] }).children].sort() };
}
