/**
 * Fills a ZooKeeper-protocol server with a tree of znodes through our wire client: `/mem`, then
 * `parents` children under it, then znodes spread over the parents, `conns` × `depth` creates
 * in flight. Shared by the benchmarks that need the same tree in Apache ZooKeeper and in
 * Coracle (zk-memory, zk-restart).
 */
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { OPEN_ACL_UNSAFE } from '../../zkproxy/mapping/acl-rules';
import type { BenchFlags } from './bench-flags';
import { inLanes } from './lanes';

/** Bound on one fill, whatever the server's speed. */
const FILL_LIMIT_MS = 15 * 60_000;

/** The tree's shape and how hard to push while making it. */
export interface TreeShape {
  parents: number;
  value: Buffer;
  conns: number;
  depth: number;
}

/** The shape from `--parents` (100), `--value` bytes (100), `--conns` (8) and `--depth` (16). */
export function treeShapeFrom(flags: BenchFlags): TreeShape {
  return { parents: flags.num('parents', 100), value: Buffer.alloc(flags.num('value', 100), 0x61), conns: flags.num('conns', 8), depth: flags.num('depth', 16) };
}

/** The path of znode `i` of the tree (see the file comment). */
export function znodePath(i: number, parents: number): string {
  return `/mem/p${String(i % parents).padStart(4, '0')}/n${String(i).padStart(9, '0')}`;
}

/** Opens `conns` sessions on 127.0.0.1:`port`. */
export function connectAll(port: number, conns: number): Promise<ZkWireClient[]> {
  return Promise.all(Array.from({ length: conns }, () => ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 })));
}

/** Creates `/mem` and its parents (one client, one at a time). */
export async function createParents(c: ZkWireClient, parents: number): Promise<void> {
  await c.send({ op: 'create', path: '/mem', data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
  for (let p = 0; p < parents; p++) {
    await c.send({ op: 'create', path: `/mem/p${String(p).padStart(4, '0')}`, data: null, acl: OPEN_ACL_UNSAFE, flags: 0 });
  }
}

/**
 * Creates znodes `from`..`to`-1 of the tree with every client, `depth` requests in flight on
 * each; throws on the first error reply or after {@link FILL_LIMIT_MS}. Prints progress to
 * stderr every 10%.
 */
export async function createRange(clients: ZkWireClient[], shape: TreeShape, from: number, to: number, label: string): Promise<void> {
  let done = 0;
  const step = Math.max(1, Math.floor((to - from) / 10));
  await inLanes(`${label}: loading`, to - from, clients.length * shape.depth, FILL_LIMIT_MS, async (i, lane) => {
    const path = znodePath(from + i, shape.parents);
    const r = await clients[lane % clients.length]!.send({ op: 'create', path, data: shape.value, acl: OPEN_ACL_UNSAFE, flags: 0 });
    if (r.header.err !== 0) throw new Error(`${label}: create ${path} failed with ZooKeeper error ${r.header.err}`);
    if (++done % step === 0) process.stderr.write(`${label}: ${from + done}/${to} znodes\n`);
  });
}
