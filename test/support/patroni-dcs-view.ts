/**
 * How a test reads Patroni's records in its DCS (test/support/patroni.ts), the way that DCS's own
 * clients see them: over the ZooKeeper protocol (znodes under `/service/<scope>/`) or the etcd
 * v3 API (keys under the same prefix). Patroni's layout: `leader` holds the lock holder's name,
 * `members/<name>` one record per live node.
 */
import { Etcd3 } from 'etcd3';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

/** Patroni's records of cluster `scope`, read live. */
export interface DcsView {
  /** The leader key's value (the node holding the lock), if any. */
  leader(): Promise<string | undefined>;
  /** Whether the leader record dies with its holder: an ephemeral znode, or a key on a lease. */
  leaderIsLeased(): Promise<boolean>;
  /** The member records' names, sorted. */
  members(): Promise<string[]>;
  close(): Promise<void>;
}

/** The view over a ZooKeeper port (one session, closed by `close`). */
export async function zkView(port: number, scope: string): Promise<DcsView> {
  const c = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
  const leader = async (): Promise<{ name: string; owner: bigint } | undefined> => {
    const r = await c.send({ op: 'getData', path: `/service/${scope}/leader`, watch: false });
    return r.body?.op === 'getData' ? { name: r.body.data?.toString() ?? '', owner: r.body.stat.ephemeralOwner } : undefined;
  };
  return {
    leader: async () => (await leader())?.name,
    leaderIsLeased: async () => ((await leader())?.owner ?? 0n) !== 0n,
    members: async () => {
      const r = await c.send({ op: 'getChildren', path: `/service/${scope}/members`, watch: false });
      return r.body?.op === 'getChildren' ? [...r.body.children].sort() : [];
    },
    close: () => c.close(),
  };
}

/** The view over an etcd client port (the `etcd3` npm client). */
export function etcdView(port: number, scope: string): DcsView {
  const c = new Etcd3({ hosts: `127.0.0.1:${port}` });
  const prefix = `/service/${scope}/`;
  return {
    leader: async () => (await c.get(`${prefix}leader`).string()) ?? undefined,
    leaderIsLeased: async () => {
      const kv = (await c.get(`${prefix}leader`).exec()).kvs[0];
      return kv !== undefined && kv.lease !== '0';
    },
    members: async () => (await c.getAll().prefix(`${prefix}members/`).keys()).map((k) => k.slice(`${prefix}members/`.length)).sort(),
    close: async () => c.close(),
  };
}
