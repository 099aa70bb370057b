/**
 * `LocalBackend`: the {@link KvBackend} over the in-process core — no serialization, no network
 * (DESIGN §4). It adapts a running core member: reads from its MVCC store (after a ReadIndex
 * round unless serializable), writes and leases as Raft proposals, the change feed from its
 * watch hub, keep-alives from its lessor.
 *
 * It imports nothing from core: {@link CoreMember} states, structurally, the slice of the core's
 * member it uses (its field names are the core's own), so `bin/` passes the member it started
 * (`new LocalBackend(member)`) and zkproxy stays independent of core internals (DESIGN §3).
 * The contract it must meet is test/interop/zk-kv-backend-conformance.ts.
 */
import {
  KvBackend, KvCompare, KvError, KvErrorCode, KvEvent, KvLeaseInfo, KvOp, KvOpResult, KvPair, KvRangeOptions,
  KvRangeResult, KvServerRole, KvStorageDirs, KvTxn, KvTxnResult, KvWatch, KvWatchHandler, KvWatchOptions,
} from './kv-backend';
import { ZK_LOCAL_MAX_TXN_OPS } from '../limits';
import { RoleSource, serverRoleOf } from './server-role';

/** The core's range request (mvcc RangeRequest); enums as their numbers. */
export interface CoreRangeRequest {
  key: Buffer; rangeEnd: Buffer; limit: number; revision: number; sortOrder: number; sortTarget: number;
  serializable: boolean; keysOnly: boolean; countOnly: boolean;
  minModRevision: number; maxModRevision: number; minCreateRevision: number; maxCreateRevision: number;
  exactCount?: boolean;
}

/** The core's compare (mvcc Compare). */
export interface CoreCompare {
  result: number; target: number; key: Buffer; rangeEnd: Buffer; number: number; value: Buffer; lease: bigint;
}

/** One op of a core txn branch. */
export type CoreRequestOp =
  | { range: CoreRangeRequest }
  | { put: { key: Buffer; value: Buffer; lease: bigint; prevKv: boolean; ignoreValue: boolean; ignoreLease: boolean } }
  | { deleteRange: { key: Buffer; rangeEnd: Buffer; prevKv: boolean } }
  | { txn: CoreTxnRequest };

/** The core's txn request. */
export interface CoreTxnRequest {
  compare: CoreCompare[];
  success: CoreRequestOp[];
  failure: CoreRequestOp[];
}

/** The core's range result. */
export interface CoreRangeResult {
  kvs: KvPair[];
  more: boolean;
  count: number;
}

/** One response of a core txn. */
export type CoreResponseOp =
  | { range: CoreRangeResult }
  | { put: { prevKv?: KvPair } }
  | { deleteRange: { deleted: number; prevKvs: KvPair[] } }
  | { txn: CoreTxnResult };

/** The core's txn result. */
export interface CoreTxnResult {
  succeeded: boolean;
  responses: CoreResponseOp[];
}

/** The proposals the adapter makes (the core's ApplyBody members it uses). */
export type CoreProposal =
  | { type: 'txn'; txn: CoreTxnRequest }
  | { type: 'leaseGrant'; id: bigint; ttl: number }
  | { type: 'leaseRevoke'; id: bigint };

/** A proposal's outcome as the core reports it. */
type Outcome = { revision: number; result?: unknown };

/** The slice of a running core member this adapter uses. */
export interface CoreMember extends RoleSource {
  readonly clusterId: bigint;
  readonly config: { maxTxnOps: number };
  /** The member's state and log directories and their sizes now. */
  storageUsage(): { stateDir: string; stateBytes: number; logDir: string; logBytes: number };
  readonly kv: { range(req: CoreRangeRequest): CoreRangeResult };
  readonly watches: {
    watch(
      options: { key: Buffer; rangeEnd: Buffer; startRevision: number; prevKv: boolean; noPut: boolean; noDelete: boolean },
      sink: { send(events: KvEvent[]): boolean; compacted(compactRevision: number): void },
    ): { cancel(): void };
  };
  readonly lessor: {
    timeToLive(id: bigint): { id: bigint; ttl: number; grantedTtl: number; keys: string[] };
  };
  header(): { revision: number };
  /** The leader's id, 0n while none is known. */
  readonly leader: bigint;
  /** The member's peer links: since when the one to a member has been up (0 while down). */
  readonly transport: { activeSince(id: bigint): number };
  propose(body: CoreProposal): Promise<Outcome>;
  linearize(): Promise<void>;
  nextLeaseId(): bigint;
  /** Renews on the leader's lessor (forwarded from a follower); 0 for an unknown lease. */
  leaseKeepAlive(id: bigint): Promise<number>;
}

const SORT_ORDER = { none: 0, ascend: 1, descend: 2 } as const;
const SORT_TARGET = { key: 0, version: 1, create: 2, mod: 3, value: 4 } as const;
const CMP_RESULT = { equal: 0, greater: 1, less: 2, not_equal: 3 } as const;
const CMP_TARGET = { version: 0, create: 1, mod: 2, value: 3, lease: 4 } as const;
const EMPTY = Buffer.alloc(0);

/** THE core error code → KvError code table of this adapter. */
const CORE_TO_KV: Record<string, KvErrorCode> = {
  'compacted': 'compacted', 'future-revision': 'future-revision', 'lease-not-found': 'lease-not-found',
  'lease-exists': 'lease-exists', 'request-too-large': 'too-large', 'too-many-ops': 'too-many-ops',
  'duplicate-key': 'duplicate-key', 'no-space': 'no-space', 'no-leader': 'unavailable', 'not-leader': 'unavailable',
  'leader-changed': 'unavailable', 'timeout': 'unavailable', 'too-many-requests': 'unavailable',
  'stopped': 'closed', 'key-not-provided': 'invalid-argument', 'lease-ttl-too-large': 'invalid-argument',
};

function kvError(e: unknown): KvError {
  if (e instanceof KvError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : String(e);
  return new KvError(typeof code === 'string' ? CORE_TO_KV[code] ?? 'internal' : 'internal', message);
}

function rangeRequest(key: Buffer, o: KvRangeOptions = {}): CoreRangeRequest {
  return {
    key, rangeEnd: o.rangeEnd ?? EMPTY, limit: o.limit ?? 0, revision: o.revision ?? 0,
    sortOrder: SORT_ORDER[o.sortOrder ?? 'none'], sortTarget: SORT_TARGET[o.sortTarget ?? 'key'],
    serializable: o.serializable ?? false, keysOnly: o.keysOnly ?? false, countOnly: o.countOnly ?? false,
    minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
  };
}

function compareOf(c: KvCompare): CoreCompare {
  return {
    result: CMP_RESULT[c.result], target: CMP_TARGET[c.target], key: c.key, rangeEnd: c.rangeEnd ?? EMPTY,
    number: typeof c.value === 'number' ? c.value : 0, value: Buffer.isBuffer(c.value) ? c.value : EMPTY,
    lease: typeof c.value === 'bigint' ? c.value : 0n,
  };
}

function opOf(op: KvOp): CoreRequestOp {
  switch (op.type) {
    case 'range': return { range: rangeRequest(op.key, op.options) };
    case 'put': return { put: { key: op.key, value: op.value, lease: op.lease ?? 0n, prevKv: op.prevKv ?? false, ignoreValue: false, ignoreLease: false } };
    case 'delete': return { deleteRange: { key: op.key, rangeEnd: op.rangeEnd ?? EMPTY, prevKv: op.prevKv ?? false } };
    case 'txn': return { txn: txnOf(op.txn) };
  }
}

function txnOf(t: KvTxn): CoreTxnRequest {
  return { compare: t.compare.map(compareOf), success: t.success.map(opOf), failure: t.failure.map(opOf) };
}

function resultsOf(rs: CoreResponseOp[], revision: number): KvOpResult[] {
  return rs.map((r): KvOpResult => {
    if ('range' in r) return { type: 'range', revision, ...r.range };
    if ('put' in r) return { type: 'put', prevKv: r.put.prevKv };
    if ('deleteRange' in r) return { type: 'delete', deleted: r.deleteRange.deleted, prevKvs: r.deleteRange.prevKvs };
    return { type: 'txn', revision, succeeded: r.txn.succeeded, results: resultsOf(r.txn.responses, revision) };
  });
}

/** The lease a grant proposal made: the core's answer, else what was asked. */
function grantedLease(out: Outcome, id: bigint, ttlSeconds: number): { id: bigint; ttl: number } {
  const r = out.result as { id?: bigint; ttl?: number } | undefined;
  return { id: r?.id ?? id, ttl: r?.ttl ?? ttlSeconds };
}

/** The result of a txn proposal. */
function txnResultOf(out: Outcome): KvTxnResult {
  const r = (out.result as { txn?: CoreTxnResult } | undefined)?.txn;
  if (!r) throw new KvError('internal', 'txn proposal without a txn result');
  return { revision: out.revision, succeeded: r.succeeded, results: resultsOf(r.responses, out.revision) };
}

/** The backend over an in-process core member. */
export class LocalBackend implements KvBackend {
  private readonly watches = new Set<{ cancel(): void }>();
  private closed = false;
  readonly maxTxnOps = ZK_LOCAL_MAX_TXN_OPS;
  readonly ordersTxns = true;

  /**
   * @param admit checks a write against the store's quota before it is proposed (the core's
   *   `--quota-backend-bytes` check, which raises NOSPACE); rejects with the core's error. Absent:
   *   no check here (the applier still refuses writes while NOSPACE is raised).
   */
  constructor(
    private readonly member: CoreMember,
    private readonly admit?: (proposal: CoreProposal) => Promise<void>,
  ) {}

  /** The member's role in its cluster (server-role.ts). */
  serverRole(): KvServerRole {
    return serverRoleOf(this.member);
  }

  /** The member's state (ZooKeeper's dataDir) and WAL (its dataLogDir), with their sizes. */
  storageDirs(): KvStorageDirs {
    const u = this.member.storageUsage();
    return { dataDir: u.stateDir, dataBytes: u.stateBytes, logDir: u.logDir, logBytes: u.logBytes };
  }

  /**
   * True while the member knows a leader and its proposals reach it: it leads, or its peer link
   * to the leader is up. A member that has just heard from a returning leader may still be
   * redialling it, and a proposal forwarded then is lost (a session's lease grant times out).
   */
  hasQuorum(): boolean {
    const lead = this.member.leader;
    return !this.closed && lead !== 0n && (lead === this.member.memberId || this.member.transport.activeSince(lead) > 0);
  }

  private check(): void {
    if (this.closed) throw new KvError('closed', 'backend closed');
  }

  /**
   * Not etcd's --max-txn-ops (an API limit for gRPC clients): a bound of our own, so one
   * ZooKeeper request can never build an unbounded proposal.
   */
  private checkSize(txn: KvTxn): void {
    if (Math.max(txn.compare.length, txn.success.length, txn.failure.length) > this.maxTxnOps) {
      throw new KvError('too-many-ops', 'etcdserver: too many operations in txn request');
    }
  }

  async range(key: Buffer, options?: KvRangeOptions): Promise<KvRangeResult> {
    this.check();
    try {
      if (!options?.serializable) await this.member.linearize();
      const revision = this.member.header().revision;
      // Only a plain range may skip the count: a txn's ranges are replayed by every member.
      const req = rangeRequest(key, options);
      req.exactCount = options?.exactCount;
      const r = this.member.kv.range(req);
      return { revision, kvs: r.kvs, more: r.more, count: r.count };
    } catch (e) {
      throw kvError(e);
    }
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    this.check();
    this.checkSize(txn);
    try {
      const proposal: CoreProposal = { type: 'txn', txn: txnOf(txn) };
      await this.admit?.(proposal);
      return txnResultOf(await this.member.propose(proposal));
    } catch (e) {
      throw kvError(e);
    }
  }

  watch(options: KvWatchOptions, handler: KvWatchHandler): KvWatch {
    let ended = false;
    const handle = this.member.watches.watch(
      { key: options.key, rangeEnd: options.rangeEnd ?? EMPTY, startRevision: options.startRevision ?? 0, prevKv: options.prevKv ?? false, noPut: false, noDelete: false },
      {
        // The feed consumes events synchronously, so there is always room.
        send: (events) => {
          if (!ended) handler.onEvents(events);
          return true;
        },
        compacted: (rev) => {
          if (ended) return;
          ended = true;
          handler.onClosed(new KvError('compacted', `mvcc: required revision has been compacted (${rev})`));
        },
      },
    );
    this.watches.add(handle);
    return {
      requestProgress: () => undefined,
      cancel: () => {
        ended = true;
        this.watches.delete(handle);
        handle.cancel();
      },
    };
  }

  async leaseGrant(ttlSeconds: number, id?: bigint): Promise<{ id: bigint; ttl: number }> {
    this.check();
    try {
      const lid = id && id !== 0n ? id : this.member.nextLeaseId();
      const proposal: CoreProposal = { type: 'leaseGrant', id: lid, ttl: ttlSeconds };
      await this.admit?.(proposal);
      return grantedLease(await this.member.propose(proposal), lid, ttlSeconds);
    } catch (e) {
      throw kvError(e);
    }
  }

  async grantThenTxn(ttlSeconds: number, txnFor: (leaseId: bigint) => KvTxn): Promise<{ lease: { id: bigint; ttl: number }; txn: KvTxnResult }> {
    this.check();
    const id = this.member.nextLeaseId();
    const txn = txnFor(id);
    this.checkSize(txn);
    const grant: CoreProposal = { type: 'leaseGrant', id, ttl: ttlSeconds };
    const put: CoreProposal = { type: 'txn', txn: txnOf(txn) };
    try {
      await this.admit?.(grant);
      await this.admit?.(put);
    } catch (e) {
      throw kvError(e);
    }
    // Proposed in one synchronous run: one Raft batch, entries in this order (a follower
    // forwards the batch whole), so the txn applies right after the grant or not at all.
    const granted = this.member.propose(grant);
    const ran = this.member.propose(put);
    const [g, t] = await Promise.allSettled([granted, ran]);
    if (g.status === 'rejected') throw kvError(g.reason);
    const lease = grantedLease(g.value, id, ttlSeconds);
    if (t.status === 'rejected') {
      await this.leaseRevoke(lease.id).catch(() => undefined);
      throw kvError(t.reason);
    }
    return { lease, txn: txnResultOf(t.value) };
  }

  async leaseKeepAlive(id: bigint): Promise<number> {
    this.check();
    try {
      // Not the local lessor: only the leader's counts, and a session may be held on any member.
      return await this.member.leaseKeepAlive(id);
    } catch (e) {
      throw kvError(e);
    }
  }

  async leaseRevoke(id: bigint): Promise<void> {
    this.check();
    try {
      await this.member.propose({ type: 'leaseRevoke', id });
    } catch (e) {
      throw kvError(e);
    }
  }

  async leaseTimeToLive(id: bigint, withKeys?: boolean): Promise<KvLeaseInfo> {
    this.check();
    const t = this.member.lessor.timeToLive(id);
    return { id: t.id, ttl: t.ttl, grantedTtl: t.grantedTtl, keys: withKeys ? t.keys.map((k) => Buffer.from(k, 'latin1')) : [] };
  }

  async clusterId(): Promise<bigint> {
    return this.member.clusterId;
  }

  /** Stops this adapter's watches; the member itself belongs to whoever started it. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watches) w.cancel();
    this.watches.clear();
  }
}
