/**
 * Where a member's Raft state lives on disk, etcd's shape (etcd.md §3.3–3.4):
 *
 * - the **WAL** (core/storage/wal.ts) holds the log entries and the hard state. An append is
 *   durable after one group-committed `O_DSYNC` write to a preallocated segment, and that alone is
 *   what acknowledging a write or a vote waits for;
 * - **LMDB** holds the applied state with the applied (consistent) index in the same
 *   transaction. It is written through a {@link WriteBuffer}: an apply is visible in memory at
 *   once and LMDB commits it in the background, off the acknowledgement path.
 *
 * The one ordering rule: an entry is applied only after the WAL append that holds it is durable.
 * Otherwise LMDB could commit the effect of an entry that a crash then removes from the log, and
 * a different entry later committed at that index would be skipped as "already applied" (etcd
 * #14370). Since appends complete in order, an apply waits for the latest append that holds one
 * of its entries, and no longer: a leader's Ready usually commits entries appended by an earlier
 * Ready while bringing new ones, and those new entries' fsync is no reason to hold the replies
 * to the old ones (etcd applies while it saves, too).
 *
 * On restart LMDB is at its applied index A; the WAL replays from its last snapshot marker S
 * (S ≤ A: a marker is written only once LMDB holds the state up to it durably) the hard state
 * and the entries, and Raft re-applies those after A (the applier skips ≤ A). Every durable
 * LMDB commit is reported with the applied index and conf state it holds
 * ({@link RaftPersistence.onStateDurable}); the snapshot policy (raft-snapshot-compactor.ts)
 * turns that into a WAL snapshot marker ({@link RaftPersistence.recordSnapshot}), after which
 * the WAL segments wholly before it are released (etcd: `ReleaseLockTo(snapshot index)`).
 * Log entries found in LMDB's `raft_log` (a data dir from before the WAL, or the initial
 * configuration a first boot records there) are moved into the WAL when it is created.
 */
import * as path from 'node:path';
import { Backend, WriteTxn } from '../storage/backend';
import { RaftLogStore, LoadedRaftLog } from '../storage/raft-log-store';
import { Wal, WalIo } from '../storage/wal';
import { WriteBuffer } from '../storage/write-buffer';
import { DB, META, encodeIndex } from '../storage/schema';
import { ConfState, Entry, HardState, SnapshotMetadata } from '../raft/types';
import { decodeConfState } from '../raft/codec';
import { Logger } from '../util/logger';

/** The applied state LMDB holds durably after a commit: what a snapshot marker may cover. */
export interface DurableState {
  /** The applied (consistent) index. */
  index: number;
  /** The conf state in force at `index` (undefined: none recorded, an old data dir). */
  confState: ConfState | undefined;
}

/** Options of {@link RaftPersistence.open}. */
export interface RaftPersistenceOptions {
  /** The member directory; the WAL goes into `wal/` inside it. */
  dir: string;
  /** LMDB (or another Backend) holding the applied state. */
  state: Backend;
  /** --unsafe-no-fsync: the WAL skips its syncs too. */
  noSync?: boolean;
  /** WAL segment size (default 64 MiB; tests use small ones). */
  segmentBytes?: number;
  /** Replaces the WAL's syncs (tests hold them to check what waits for durability). */
  walIo?: Partial<WalIo>;
  logger: Logger;
}

const EMPTY_CONF = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };

/** A WAL append of entries not yet known durable. */
interface PendingAppend {
  /** Index of its first entry. */
  first: number;
  /** Resolves once it is durable. */
  logged: Promise<void>;
  /** Set when `logged` resolved. */
  durable: boolean;
}

/** One Ready's durable work, as the driver hands it to the persister. */
export interface ReadyWrite {
  /** New log entries, appended to the WAL now. */
  entries: readonly Entry[];
  /** The new hard state, if it changed. */
  hardState: HardState | undefined;
  /** Applies the Ready's committed entries inside the state transaction (none: undefined). */
  apply?: (txn: WriteTxn) => void;
  /**
   * The index of the last entry `apply` applies. The apply waits only for the appends holding
   * entries up to it; undefined: it waits for this Ready's own append too.
   */
  applyThrough?: number;
  /** The applied index right after `apply`: what LMDB holds once it commits that apply. */
  appliedIndex: () => number;
  /** A snapshot the follower adopted: its WAL marker, and the install run once that is durable. */
  snapshot?: { meta: SnapshotMetadata; install(): Promise<void> };
  /** Raft's `Ready.mustSync` (default true): false when only the commit index changed (no wait for the disk). */
  mustSync?: boolean;
  /**
   * Called once this Ready's entries, hard state and snapshot marker (and every earlier
   * Ready's) are in the WAL as `mustSync` asks, before the apply: what a follower's acks and
   * votes need. Not called if the write fails.
   */
  onLogged?: () => void;
}

/**
 * Persists a Ready (implemented by {@link RaftPersistence}): log entries and hard state
 * durably, then `apply` against the applied state, in call order; resolves when both are done.
 */
export interface ReadyPersister {
  /** See {@link RaftPersistence.persist}. */
  persist(w: ReadyWrite): Promise<void>;
}

/** The member's durable Raft log plus its buffered applied state. */
export class RaftPersistence implements ReadyPersister {
  /** Applies not yet reported durable: LMDB sequence → applied state after it. */
  private readonly appliedAt: Array<{ seq: number; state: DurableState }> = [];
  private durableListener: ((state: DurableState) => void) | undefined;
  /** Index of the last snapshot marker written (and so the point the WAL may release to). */
  private markerIndex = 0;
  private releasing = false;
  private released = 0;
  /** The chain that orders applies after their WAL appends. */
  private applyTail: Promise<void> = Promise.resolve();
  /** WAL appends of entries, in append order, the ones at the front pruned once durable. */
  private readonly appends: PendingAppend[] = [];
  private readonly unsubscribe: () => void;
  /**
   * The conf state of the applied view, read once and then again only after an apply that wrote
   * it or a snapshot install: reading it per apply cost an LMDB lookup (and a read-transaction
   * renewal) per Ready. `undefined` = read it next time.
   */
  private confState: { value: ConfState | undefined } | undefined;

  private constructor(
    private readonly wal: Wal,
    /** What every reader and writer of the applied state uses. */
    readonly backend: WriteBuffer,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = backend.onDurable((seq) => this.stateDurable(seq));
  }

  /** Opens the WAL (migrating an LMDB-held log into it) and returns what Raft restarts from. */
  static async open(o: RaftPersistenceOptions): Promise<{ persistence: RaftPersistence; loaded: LoadedRaftLog }> {
    // Sparse segments: creating one is instant (a zero-filled 64 MiB segment is 64 MiB of writes
    // at every first start), and appends measured the same (bench/wal-bench.ts: fdatasync
    // 0.20 vs 0.24 ms with one writer, 0.38 vs 0.31 ms with 16, on this machine's disk).
    const { wal, replay } = await Wal.open(path.join(o.dir, 'wal'), { io: o.walIo, noSync: o.noSync, segmentBytes: o.segmentBytes, preallocation: 'sparse' });
    const legacyStore = new RaftLogStore();
    const legacy = o.state.read((txn) => legacyStore.load(txn));
    const fresh = replay.hardState === undefined && replay.entries.length === 0 && replay.compacted.index === 0;
    let loaded: LoadedRaftLog = {
      hardState: replay.hardState,
      confState: legacy.confState,
      compacted: replay.compacted,
      entries: replay.entries,
      appliedIndex: legacy.appliedIndex,
    };
    if (fresh && (legacy.hardState !== undefined || legacy.entries.length > 0)) {
      await migrate(wal, o.state, legacy, o.logger);
      loaded = { ...legacy };
    }
    loaded = withCommitCoveringApplied(loaded);
    return { persistence: new RaftPersistence(wal, new WriteBuffer(o.state), o.logger), loaded };
  }

  /**
   * Persists one Ready: `entries` and `hardState` are appended to the WAL now (in call order);
   * `apply` runs against the applied state after every earlier `apply`, once the appends that
   * hold its entries (up to `applyThrough`) are durable — without `applyThrough`, once this
   * append and every earlier one are. Resolves when the apply happened (with no apply: when this
   * append is durable); `appliedIndex` is read right after `apply` to know what LMDB will hold
   * once it commits.
   *
   * With `snapshot` (a follower adopting the leader's snapshot), its marker is appended first in
   * the same WAL write, and `snapshot.install` runs once that is durable, after every earlier
   * apply and before `apply`: the WAL marker is the commit point of the install
   * (snapshot-installer.ts).
   */
  persist(w: ReadyWrite): Promise<void> {
    const { entries, hardState, apply, appliedIndex, snapshot, onLogged } = w;
    const mustSync = w.mustSync ?? true;
    // Without `mustSync` (Raft's rule: no entries, no snapshot, term and vote unchanged: only the
    // commit index moved) the hard state is written but not waited for; the next synced append
    // carries it to disk, and a crash before that loses only a commit index that Raft relearns
    // (withCommitCoveringApplied covers what this member had already applied).
    const batch = { snapshot: snapshot?.meta, entries, hardState };
    const logged = entries.length > 0 || hardState !== undefined || snapshot ? this.wal.append(batch, { sync: mustSync || entries.length > 0 || snapshot !== undefined }) : undefined;
    if (snapshot) this.markerIndex = Math.max(this.markerIndex, snapshot.meta.index);
    if (logged && entries.length > 0) this.track(entries[0]!.index, logged);
    // WAL appends become durable in append order, so this also covers every earlier Ready's.
    if (onLogged) (logged ?? Promise.resolve()).then(onLogged, () => undefined);
    // Decided now: a later Ready's append never holds an entry committed here (committed
    // entries are never overwritten).
    const holding = apply && !snapshot && w.applyThrough !== undefined ? this.appendHolding(w.applyThrough) : logged;
    const step = this.applyTail.then(async () => {
      if (holding) await holding;
      if (snapshot) {
        await snapshot.install();
        this.confState = undefined;
        this.release();
      }
      if (!apply) return;
      await this.backend.write((txn) => apply(this.watchConfState(txn)));
      this.appliedAt.push({ seq: this.backend.appliedSeq, state: { index: appliedIndex(), confState: this.confStateNow() } });
    });
    // A failure is the caller's to handle (it crashes the member); the chain must still hold
    // later steps back, so they wait on a settled copy.
    this.applyTail = step.catch(() => undefined);
    return step;
  }

  /**
   * Sets the listener told, after each LMDB commit, the applied state that is now durable
   * (cheap, must not throw). Snapshot markers may cover up to that index.
   */
  onStateDurable(listener: ((state: DurableState) => void) | undefined): void {
    this.durableListener = listener;
  }

  /**
   * Writes a snapshot marker durably: Raft's log before `meta.index` is no longer needed on
   * restart. The caller guarantees LMDB durably holds the applied state up to `meta.index`
   * (from {@link onStateDurable}). Then releases the WAL segments wholly covered by it. A marker
   * not newer than the last one is ignored.
   */
  async recordSnapshot(meta: SnapshotMetadata): Promise<void> {
    if (meta.index <= this.markerIndex) return;
    this.markerIndex = meta.index;
    await this.wal.append({ snapshot: meta });
    this.release();
  }

  /** Index of the last snapshot marker this process wrote (0 when none yet). */
  get snapshotIndex(): number {
    return this.markerIndex;
  }

  /** Reports every WAL group commit's duration in seconds (etcd_disk_wal_fsync_duration_seconds). */
  observeSyncs(observer: ((seconds: number) => void) | undefined): void {
    this.wal.observeSyncs(observer);
  }

  /** Resolves once every applied batch is durable in LMDB (snapshot, defragment, stop). */
  flush(): Promise<void> {
    return this.backend.flush();
  }

  /** Flushes the applied state, then closes the WAL and LMDB. */
  async close(): Promise<void> {
    await this.applyTail;
    this.unsubscribe();
    await this.backend.close();
    await this.wal.close();
  }

  /** Remembers an append of entries from index `first` until it is durable. */
  private track(first: number, logged: Promise<void>): void {
    const a: PendingAppend = { first, logged, durable: false };
    logged.then(() => (a.durable = true), () => undefined);
    this.pruneDurable();
    this.appends.push(a);
  }

  /** Forgets the appends known durable (they complete in order: the front ones). */
  private pruneDurable(): void {
    while (this.appends.length > 0 && this.appends[0]!.durable) this.appends.shift();
  }

  /**
   * What an apply of entries up to `index` waits for: the latest append not yet durable that
   * holds an entry at or below `index` (it covers the earlier ones); undefined when all are.
   */
  private appendHolding(index: number): Promise<void> | undefined {
    this.pruneDurable();
    for (let i = this.appends.length - 1; i >= 0; i--) if (this.appends[i]!.first <= index) return this.appends[i]!.logged;
    return undefined;
  }

  /** LMDB made applies up to `seq` durable: tell the snapshot policy what it holds now. */
  private stateDurable(seq: number): void {
    let state: DurableState | undefined;
    while (this.appliedAt.length > 0 && this.appliedAt[0]!.seq <= seq) state = this.appliedAt.shift()!.state;
    if (state) this.durableListener?.(state);
  }

  /** Releases the WAL segments wholly before the last snapshot marker (one release at a time). */
  private release(): void {
    const upTo = this.markerIndex;
    if (upTo <= this.released || this.releasing) return;
    this.releasing = true;
    this.wal.releaseTo(upTo).then(
      () => {
        this.released = upTo;
        this.releasing = false;
        // A newer marker arrived meanwhile: release up to it too.
        if (this.markerIndex > this.released) this.release();
      },
      (err: unknown) => {
        // No retry loop: the next marker tries again.
        this.releasing = false;
        this.logger.warn({ err }, 'releasing WAL segments failed; they stay on disk');
      },
    );
  }

  /** The conf state in the applied view right now (the one in force at the applied index). */
  private confStateNow(): ConfState | undefined {
    if (this.confState === undefined) {
      const raw = this.backend.read((txn) => txn.get(DB.meta, META.raftConfState));
      this.confState = { value: raw ? decodeConfState(raw) : undefined };
    }
    return this.confState.value;
  }

  /** `txn`, except that writing the conf state key also drops the cached conf state. */
  private watchConfState(txn: WriteTxn): WriteTxn {
    const touched = (db: string, key: Buffer): void => {
      if (db === DB.meta && key.equals(META.raftConfState)) this.confState = undefined;
    };
    return {
      get: (db, key) => txn.get(db, key),
      iterate: (db, options) => txn.iterate(db, options),
      put: (db, key, value) => {
        touched(db, key);
        txn.put(db, key, value);
      },
      del: (db, key) => {
        touched(db, key);
        txn.del(db, key);
      },
    };
  }
}

/**
 * Moves a log kept in LMDB (data dirs from before the WAL) into the WAL, durably, then removes
 * it from LMDB. A crash in between leaves both: the next open sees a non-empty WAL and ignores
 * LMDB's copy, which is identical.
 */
async function migrate(wal: Wal, state: Backend, legacy: LoadedRaftLog, logger: Logger): Promise<void> {
  // Also the normal path of a first boot: cluster-first-write.ts records the initial
  // configuration entries in LMDB before the WAL exists.
  logger.info({ entries: legacy.entries.length }, 'moving raft log entries kept in LMDB into the WAL');
  if (legacy.compacted.index > 0) {
    await wal.append({ snapshot: { index: legacy.compacted.index, term: legacy.compacted.term, confState: legacy.confState ?? EMPTY_CONF } });
  }
  await wal.append({ entries: legacy.entries, hardState: legacy.hardState });
  await state.write((txn) => {
    for (const e of legacy.entries) txn.del(DB.raftLog, encodeIndex(e.index));
  });
}

/**
 * A hard state whose commit index was written without a sync can come back older than the
 * applied index LMDB holds. Everything applied was committed (only committed entries are
 * applied) and is in the log (an entry is applied only once its append is durable), so the
 * commit index is raised to cover it, as Raft requires (applied ≤ committed).
 */
export function withCommitCoveringApplied(loaded: LoadedRaftLog): LoadedRaftLog {
  const hs = loaded.hardState;
  if (hs === undefined || hs.commit >= loaded.appliedIndex) return loaded;
  const last = loaded.entries.length > 0 ? loaded.entries[loaded.entries.length - 1]!.index : loaded.compacted.index;
  return { ...loaded, hardState: { ...hs, commit: Math.min(loaded.appliedIndex, Math.max(last, hs.commit)) } };
}

