/**
 * Linearizable reads for the Ready loop (etcd's read loop): reads queued in one turn share one
 * ReadIndex request; its answer (a read state) holds them until the durable applied index
 * reaches the read index; a request or answer lost on the way to or from the leader is asked
 * again after {@link READ_INDEX_RETRY_TICKS} ticks; a leader change fails what the old leader
 * was asked (etcd: `leader changed`). No I/O: the driver feeds it.
 */
import { ChurnMap } from '../util/churn-map';
import { CoreError } from '../util/core-error';
import { ReadState } from '../raft/types';

/** Ticks (heartbeat intervals) before an unanswered ReadIndex is asked again. */
export const READ_INDEX_RETRY_TICKS = 5;

interface ReadWaiter {
  resolve(): void;
  reject(e: Error): void;
}

/** The reads of one member, from queued to released. */
export class ReadIndexBatcher {
  private queued: ReadWaiter[] = [];
  /** Batches awaiting their read index; a ChurnMap: one set and delete per batch (see churn-map.ts). */
  private readonly inFlight = new ChurnMap<string, { waiters: ReadWaiter[]; ticks: number }>();
  private awaitingApply: Array<{ index: number; waiters: ReadWaiter[] }> = [];
  private seq = 0;

  /**
   * @param requestReadIndex asks Raft for a read index under `ctx`; throws when it cannot
   * @param noLeaderError the error for reads that cannot be asked now
   */
  constructor(
    private readonly requestReadIndex: (ctx: Buffer) => void,
    private readonly noLeaderError: () => CoreError,
  ) {}

  /** Resolves once the durable applied index covers a read index taken after the call. */
  add(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.queued.push({ resolve, reject }));
  }

  /** One ReadIndex request for every read queued since the last one. */
  issue(): void {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    this.request(batch);
  }

  /** One tick: batches unanswered for too long ask again under a new context. */
  tick(): void {
    const stale: ReadWaiter[] = [];
    for (const [key, rs] of this.inFlight) {
      if (++rs.ticks < READ_INDEX_RETRY_TICKS) continue;
      this.inFlight.delete(key);
      stale.push(...rs.waiters);
    }
    if (stale.length) this.request(stale);
  }

  /** Read states of a durable Ready: their batches now wait for the applied index. */
  collect(states: readonly ReadState[]): void {
    for (const rs of states) {
      const key = Buffer.from(rs.requestCtx).toString('hex');
      const batch = this.inFlight.get(key);
      if (!batch) continue;
      this.inFlight.delete(key);
      this.awaitingApply.push({ index: rs.index, waiters: batch.waiters });
    }
  }

  /** Releases the batches whose read index is at most `durableIndex`. */
  release(durableIndex: number): void {
    if (this.awaitingApply.length === 0) return;
    const still: Array<{ index: number; waiters: ReadWaiter[] }> = [];
    for (const r of this.awaitingApply) {
      if (r.index <= durableIndex) for (const w of r.waiters) w.resolve();
      else still.push(r);
    }
    this.awaitingApply = still;
  }

  /** The leader changed: requests to the old one will never be answered. */
  leaderChanged(): void {
    this.failInFlight(new CoreError('leader-changed'));
  }

  /** Fails every read with `err` (the driver stops). */
  failAll(err: Error): void {
    for (const r of this.queued) r.reject(err);
    this.queued = [];
    this.failInFlight(err);
    for (const a of this.awaitingApply) for (const r of a.waiters) r.reject(err);
    this.awaitingApply = [];
  }

  private failInFlight(err: Error): void {
    for (const rs of this.inFlight.values()) for (const r of rs.waiters) r.reject(err);
    this.inFlight.clear();
  }

  private request(batch: ReadWaiter[]): void {
    const ctx = Buffer.alloc(8);
    ctx.writeUIntBE(++this.seq, 2, 6);
    try {
      this.requestReadIndex(ctx);
    } catch {
      const err = this.noLeaderError();
      for (const r of batch) r.reject(err);
      return;
    }
    this.inFlight.set(ctx.toString('hex'), { waiters: batch, ticks: 0 });
  }
}
