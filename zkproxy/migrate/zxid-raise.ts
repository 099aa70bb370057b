/**
 * Moves the store's zxids past the source ZooKeeper's, so its clients can switch over.
 *
 * A ZooKeeper client keeps the last zxid it saw and a server refuses it while its own zxids are
 * lower; the client then tries server after server for ever, never told that its session is
 * gone. A copy's zxids are the store's revisions, far below any ZooKeeper's (whose zxids carry
 * the leader's epoch in their high 32 bits), so the copy raises the store's zxid base
 * (mapping/zxid-base.ts) to the start of the epoch after the source's, as a ZooKeeper leader
 * election would: every zxid the source gave out in its epoch is then below the store's, and a
 * client moving over is served: it resumes its session when the copy carried it over
 * (session-carrier.ts), else it is told that its session expired and starts a new one.
 *
 * Raising shifts the zxids of every znode already in the store. Into a store whose ZooKeeper
 * space is untouched (nothing ever created under `/`) that harms no one and is done by
 * default; otherwise only when asked (`force`), since clients may already hold those zxids
 * (Kafka takes its brokers' epochs from a czxid).
 */
import { KvBackend, KvPair } from '../backend/kv-backend';
import { KeySchema } from '../mapping/key-schema';
import { decodeZxidBase, encodeZxidBase, nextEpochStart } from '../mapping/zxid-base';
import { lastChange } from '../ops/txn-plan';
import { MigrationError } from './zk-source';
import { rootCounterUnused } from './node-writer';

/** What a copy did about the zxids. */
export type ZxidOutcome =
  /** The store's base is already past the source's epoch. */
  | { kind: 'ahead'; base: bigint; sourceZxid: bigint }
  /** The base went (or, in a dry run, would go) from `from` to `to`. */
  | { kind: 'raised'; from: bigint; to: bigint; sourceZxid: bigint }
  /** Needed but not done: the store's ZooKeeper space is in use and `force` was not given. */
  | { kind: 'held'; base: bigint; needed: bigint; sourceZxid: bigint };

/** Options of {@link raiseZxidBase}. */
export interface ZxidRaiseOptions {
  /** Raise even when the store's ZooKeeper space is in use. */
  force?: boolean;
  /** Decide, write nothing. */
  dryRun?: boolean;
}

/** Guarded writes tried before giving up (another writer moving the same keys). */
const ATTEMPTS = 3;

/**
 * Raises the store's zxid base to the start of the epoch after `sourceZxid` (the newest zxid the
 * source showed) when it is below it. Guarded by what it read, so concurrent copies or clients
 * cannot make it lower the base or shift zxids a client created meanwhile.
 */
export async function raiseZxidBase(target: KvBackend, keys: KeySchema, sourceZxid: bigint, o: ZxidRaiseOptions = {}): Promise<ZxidOutcome> {
  const needed = nextEpochStart(sourceZxid);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const [baseKv, rootCounter] = await Promise.all([first(target, keys.zxidBaseKey()), first(target, keys.counterKey('/'))]);
    const base = (baseKv && decodeZxidBase(baseKv.value)) ?? 0n;
    if (base >= needed) return { kind: 'ahead', base, sourceZxid };
    if (!rootCounterUnused(rootCounter) && !o.force) return { kind: 'held', base, needed, sourceZxid };
    if (o.dryRun) return { kind: 'raised', from: base, to: needed, sourceZxid };
    const r = await target.txn({
      compare: [
        { key: keys.zxidBaseKey(), target: 'mod', result: 'equal', value: baseKv?.modRevision ?? 0 },
        ...(o.force ? [] : [{ key: keys.counterKey('/'), target: 'mod' as const, result: 'equal' as const, value: rootCounter?.modRevision ?? 0 }]),
      ],
      success: [{ type: 'put', key: keys.zxidBaseKey(), value: encodeZxidBase(needed) }, lastChange(keys)],
      failure: [],
    });
    if (r.succeeded) return { kind: 'raised', from: base, to: needed, sourceZxid };
  }
  throw new MigrationError('the zxid base or the root znode kept changing in the store during the copy; run the copy again');
}

async function first(target: KvBackend, key: Buffer): Promise<KvPair | undefined> {
  return (await target.range(key)).kvs[0];
}
