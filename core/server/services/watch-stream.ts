/**
 * One gRPC Watch stream: many watchers, told apart by per-stream watch ids (etcd.md §2.6,
 * etcd's `serverWatchStream`).
 *
 * Ordering: every response is written to the call in the order it is produced, on one thread.
 * A watcher's `created` response is written synchronously while handling its create request,
 * and the store delivers events only on later turns of the event loop, so events never precede
 * their `created`; control responses (created, canceled, progress) go out in request order.
 *
 * Backpressure (a slow reader never blocks writes, and nothing is lost): the call's `write`
 * reports when its send buffer is above the high-water mark. The stream is then "full": every
 * sink that delivers reports it back to the store, which moves that watcher to catch-up and
 * stops sending to it; reading the client's requests pauses too. When the buffer drains, the
 * blocked watchers are resumed and caught up from the stored history.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { etcdMessage } from '../../errors/grpc-error-table';
import { WatchEvent, WatcherHandle, WatchSink } from '../../mvcc/watcher';
import { MAX_WATCHERS_PER_STREAM } from '../../util/limits';
import type { BidiStream } from '../grpc/grpc-method';
import { Member } from '../member';
import { pbHeader } from './pb-mapping';
import { byRevision, fragmentResponse, pbEvent } from './watch-response';

/** The id etcd answers with when a create fails, and uses for stream-wide progress. */
export const INVALID_WATCH_ID = -1n;

/** cancel_reason for a create whose key ≥ range_end (etcd's mvcc text, verbatim). */
export const EMPTY_RANGE_REASON = 'mvcc: watcher range is empty';
/** cancel_reason for a client-chosen watch id already in use on the stream (etcd's mvcc text). */
export const DUPLICATE_ID_REASON = 'mvcc: duplicate watch ID provided on the WatchStream';

/** Settings shared by every stream of one service. */
export interface WatchStreamSettings {
  /** Responses at least this big are fragmented for watchers that asked (max request bytes + overhead). */
  fragmentBytes: number;
  /** Base period of progress notifications; jitter of up to 10% is added, as etcd does. */
  progressIntervalMs: number;
  /** Watchers one stream may hold. */
  maxWatchers: number;
}

/** Default for {@link WatchStreamSettings.maxWatchers}. */
export const DEFAULT_MAX_WATCHERS = MAX_WATCHERS_PER_STREAM;

/** One watcher of this stream: its options, its store handle, and the sink the store calls. */
class StreamWatcher implements WatchSink {
  handle: WatcherHandle | undefined;
  /** No events since the last progress tick (etcd's `progress[id]`). */
  progressDue = true;

  constructor(
    readonly owner: WatchStream,
    readonly id: bigint,
    readonly progressNotify: boolean,
    readonly fragment: boolean,
  ) {}

  send(events: WatchEvent[]): boolean {
    return this.owner.deliver(this, events);
  }

  compacted(compactRevision: number): void {
    this.owner.deliverCompacted(this, compactRevision);
  }
}

/** The state of one Watch call. Create it when the call starts; it ends with the call. */
export class WatchStream {
  private readonly watchers = new Map<bigint, StreamWatcher>();
  /** Watchers the store stopped because this stream was full; resumed on drain. */
  private readonly blocked = new Set<StreamWatcher>();
  private nextId = 0n;
  private full = false;
  private closed = false;
  private progressTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly member: Member,
    private readonly out: BidiStream<pb.WatchRequest, pb.WatchResponse>,
    private readonly settings: WatchStreamSettings,
  ) {}

  /** Number of watchers (including compacted ones whose id is still held, as in etcd). */
  get size(): number {
    return this.watchers.size;
  }

  /** Handles one client request. Unknown or empty request kinds are ignored, as etcd does. */
  handle(req: pb.WatchRequest): void {
    if (this.closed) return;
    const u = req.requestUnion;
    switch (u?.$case) {
      case 'createRequest':
        this.create(u.createRequest);
        break;
      case 'cancelRequest':
        this.cancel(u.cancelRequest.watchId);
        break;
      case 'progressRequest':
        this.progressAll();
        break;
    }
  }

  /** Frees every watcher and the timer. Idempotent; called when the call ends for any reason. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers.values()) w.handle?.cancel();
    this.watchers.clear();
    this.blocked.clear();
    if (this.progressTimer !== null) clearTimeout(this.progressTimer);
    this.progressTimer = null;
  }

  /** Sink callback: events of whole revisions for `w`. Returns false when the stream is full. */
  deliver(w: StreamWatcher, events: WatchEvent[]): boolean {
    if (this.closed || this.watchers.get(w.id) !== w) return true;
    if (events.length > 0) w.progressDue = false;
    if (w.handle?.isSynced()) {
      // Live delivery: one response per revision, stamped with it (etcd's notify path).
      for (const run of byRevision(events)) this.writeEvents(w, run, run[0]!.kv.modRevision);
    } else {
      // Catch-up from history: one response stamped with the store's revision (etcd's syncWatchers).
      this.writeEvents(w, events, this.member.kv.readRevision);
    }
    if (!this.full) return true;
    this.blocked.add(w);
    return false;
  }

  /** Sink callback: `w`'s next revision was compacted; it is canceled with compact_revision. */
  deliverCompacted(w: StreamWatcher, compactRevision: number): void {
    if (this.closed || this.watchers.get(w.id) !== w) return;
    // etcd stamps this response with revision 0 and keeps the id reserved until a cancel.
    const header = pbHeader({ ...this.member.header(), revision: 0 });
    this.write({ ...emptyResponse(w.id), header, compactRevision: BigInt(compactRevision), canceled: true });
  }

  private create(c: pb.WatchCreateRequest): void {
    const header = pbHeader(this.member.header());
    const reason = this.rejectReason(c);
    if (reason !== undefined) {
      this.write({ ...emptyResponse(INVALID_WATCH_ID), header, created: true, canceled: true, cancelReason: reason });
      return;
    }
    const id = c.watchId !== 0n ? c.watchId : this.autoId();
    const w = new StreamWatcher(this, id, c.progressNotify, c.fragment);
    this.watchers.set(id, w);
    // An empty key means the key "\0" (etcd); the range-end conventions are the store's.
    const key = c.key.length === 0 ? ZERO_KEY : c.key;
    w.handle = this.member.watches.watch(
      {
        key,
        rangeEnd: c.rangeEnd,
        startRevision: Number(c.startRevision),
        prevKv: c.prevKv,
        noPut: c.filters.includes(pb.WatchCreateRequest_FilterType.NOPUT),
        noDelete: c.filters.includes(pb.WatchCreateRequest_FilterType.NODELETE),
      },
      w,
    );
    this.write({ ...emptyResponse(id), header, created: true });
    if (c.progressNotify) this.armProgressTimer();
  }

  /** Why etcd would refuse this create, or undefined. Checked in etcd's order. */
  private rejectReason(c: pb.WatchCreateRequest): string | undefined {
    // Newer etcd refuses a negative start (3.4 read it as "from the beginning of history").
    if (c.startRevision < 0n) return etcdMessage('compacted');
    if (c.startRevision > BigInt(Number.MAX_SAFE_INTEGER)) return etcdMessage('future-revision');
    const key = c.key.length === 0 ? ZERO_KEY : c.key;
    const fromKey = c.rangeEnd.length === 1 && c.rangeEnd[0] === 0;
    if (c.rangeEnd.length > 0 && !fromKey && Buffer.compare(key, c.rangeEnd) >= 0) return EMPTY_RANGE_REASON;
    if (c.watchId !== 0n && this.watchers.has(c.watchId)) return DUPLICATE_ID_REASON;
    if (this.watchers.size >= this.settings.maxWatchers) return etcdMessage('too-many-requests');
    return undefined;
  }

  /** The lowest unused id at or after the last one handed out (etcd's per-stream counter). */
  private autoId(): bigint {
    while (this.watchers.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  private cancel(id: bigint): void {
    const w = this.watchers.get(id);
    if (w === undefined) return; // etcd ignores unknown ids
    w.handle?.cancel();
    this.watchers.delete(id);
    this.blocked.delete(w);
    this.write({ ...emptyResponse(id), header: pbHeader(this.member.header()), canceled: true });
  }

  /**
   * A progress request: one response with watch id −1 at the current revision, which promises
   * that every event up to it has been sent. That promise only holds when every watcher on the
   * stream is synced, so otherwise nothing is sent (etcd 3.5's rule; 3.4 sent it regardless,
   * etcd bug #15220). A stream with no watchers gets the response, as in 3.4.
   */
  private progressAll(): void {
    for (const w of this.watchers.values()) {
      if (!w.handle?.isSynced()) return;
    }
    this.write({ ...emptyResponse(INVALID_WATCH_ID), header: pbHeader(this.member.header()) });
  }

  /** Periodic progress: each progress_notify watcher with no events since the last tick, if synced. */
  private progressTick(): void {
    this.progressTimer = null;
    if (this.closed) return;
    let any = false;
    for (const w of this.watchers.values()) {
      if (!w.progressNotify) continue;
      any = true;
      // A full stream means the watcher is about to be caught up: etcd drops the notification too.
      if (w.progressDue && !this.full && w.handle?.isSynced()) {
        this.write({ ...emptyResponse(w.id), header: pbHeader(this.member.header()) });
      }
      w.progressDue = true;
    }
    if (any) this.armProgressTimer();
  }

  private armProgressTimer(): void {
    if (this.progressTimer !== null || this.closed) return;
    const base = this.settings.progressIntervalMs;
    this.progressTimer = setTimeout(() => this.progressTick(), base + Math.floor(Math.random() * (base / 10)));
    this.progressTimer.unref();
  }

  private writeEvents(w: StreamWatcher, events: WatchEvent[], revision: number): void {
    const resp: pb.WatchResponse = { ...emptyResponse(w.id), header: pbHeader(this.member.header(revision)), events: events.map(pbEvent) };
    if (!w.fragment) {
      this.write(resp);
      return;
    }
    for (const piece of fragmentResponse(resp, this.settings.fragmentBytes)) this.write(piece);
  }

  /** Writes one response; on a full buffer, marks the stream full until it drains. */
  private write(resp: pb.WatchResponse): void {
    if (this.out.write(resp) || this.out.ended || this.full) return;
    this.full = true;
    this.out.pause();
    void this.out.drain().then(() => this.drained());
  }

  private drained(): void {
    this.full = false;
    if (this.closed || this.out.ended) return;
    this.out.resume();
    const blocked = [...this.blocked];
    this.blocked.clear();
    for (const w of blocked) w.handle?.resume();
  }
}

const ZERO_KEY = Buffer.from([0]);

function emptyResponse(watchId: bigint): pb.WatchResponse {
  return { header: undefined, watchId, created: false, canceled: false, compactRevision: 0n, cancelReason: '', fragment: false, events: [] };
}
