/**
 * Pending linearizable read requests on the leader (etcd-io/raft `read_only.go`, Raft thesis
 * §6.4). Each request records the commit index at the time it arrived and waits for a quorum
 * of heartbeat acknowledgements carrying its context; an acknowledgement for a later request
 * also confirms every earlier one (they were queued before it), which batches reads that
 * arrive while a round is in flight.
 */
import { assert } from '../util/assert';
import type { Message } from './types';

/** How ReadIndex is served. */
export type ReadOnlyOption = 'safe' | 'lease-based';

/** One queued read request. */
export interface ReadIndexStatus {
  /** The original MsgReadIndex (local or forwarded by a follower). */
  req: Message;
  /** The leader's commit index when the request arrived. */
  index: number;
  /** Members that acknowledged a heartbeat carrying this request's context. */
  acks: Map<bigint, boolean>;
}

/** The request context of a MsgReadIndex (its single entry's data) as a map key. */
export function readContextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

/** The queue of pending read requests, in arrival order, keyed by context. */
export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /**
   * Queues a read at commit index `index`. A request whose context is already pending is
   * ignored (the earlier one will answer it).
   */
  addRequest(index: number, m: Message): void {
    assert(m.entries.length === 1, 'MsgReadIndex must carry exactly one entry');
    const key = readContextKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Map() });
    this.queue.push(key);
  }

  /**
   * Records that `id` acknowledged the heartbeat with context `ctx`; returns the acks so far for
   * that request, or undefined if no such request is pending.
   */
  recvAck(id: bigint, ctx: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(readContextKey(ctx));
    if (!rs) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * The request with context `ctx` reached quorum: dequeue and return it together with every
   * request queued before it (in order). Returns [] if `ctx` is not pending.
   */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = readContextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((k) => {
      const rs = this.pending.get(k);
      assert(rs !== undefined, 'cannot find corresponding read state from pending map');
      this.pending.delete(k);
      return rs;
    });
  }

  /** The context of the most recent pending request, if any (sent with heartbeats). */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    const rs = this.pending.get(this.queue[this.queue.length - 1]!);
    assert(rs !== undefined, 'read queue and pending map disagree');
    return rs.req.entries[0]!.data;
  }

  /** Number of pending requests. */
  pendingCount(): number {
    return this.queue.length;
  }
}
