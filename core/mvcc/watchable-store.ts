/**
 * The watch hub: delivers every change to every matching watcher, in revision order, exactly once
 * (etcd's watchableStore; guarantees in etcd.md §2.6).
 *
 * - Synced watchers get each durable batch's events as soon as the batch is durable.
 * - Unsynced watchers (a start revision in the past, or a sink that reported a full buffer) are
 *   caught up from the stored history in bounded batches on later turns of the event loop, so a
 *   slow watcher never blocks writes and never loses events.
 * - A watcher whose next revision has been compacted away gets `compacted(rev)` and is removed.
 * - One revision's events are never split across two `send` calls.
 */
import { DB, decodeRevisionMain, encodeRevisionKey } from '../storage/schema';
import { assert } from '../util/assert';
import { keyString, KeyString } from '../util/bytes';
import { WATCH_BATCH_MAX_REVISIONS } from '../util/limits';
import { decodeRecord, KeyValue } from './key-value';
import { KvStore } from './kv-store';
import { KvEvent } from './kv-types';
import { keyBounds, readKv } from './range-reader';
import { WatchEvent, Watcher, WatcherHandle, WatchOptions, WatchSink } from './watcher';
import { WatcherIndex } from './watcher-index';

/** Events of one revision, as the driver hands them over. */
export interface RevisionEvents {
  revision: number;
  events: KvEvent[];
}

/** The hub. */
export class WatchableStore {
  private nextId = 1;
  private readonly synced = new WatcherIndex();
  /**
   * The last revision notified to the synced watchers. A synced watcher that no event matched
   * keeps an older `nextRev`; it is owed nothing in between, so it catches up to here when it
   * leaves the synced set ({@link unsync}).
   */
  private notifiedThrough = 0;
  private readonly unsynced = new Set<Watcher>();
  private catchUpScheduled = false;

  constructor(private readonly kv: KvStore) {}

  /** Number of registered watchers. */
  get size(): number {
    return this.synced.size + this.unsynced.size;
  }

  /** Registers a watcher. The caller has validated the range (etcd: `watcher range is empty`). */
  watch(options: WatchOptions, sink: WatchSink): WatcherHandle {
    const b = keyBounds(options.key, options.rangeEnd);
    const readRev = this.kv.readRevision;
    const start = options.startRevision > 0 ? options.startRevision : readRev + 1;
    const w = new Watcher(this.nextId++, b.start, b.end, b.single, options, sink, start, this);
    if (start <= readRev) {
      this.unsynced.add(w);
      this.scheduleCatchUp();
    } else {
      w.synced = true;
      this.synced.add(w);
    }
    return w;
  }

  /** Called by the driver once revisions up to `readRevision` are durable, with their events in order. */
  notify(batches: RevisionEvents[]): void {
    if (batches.length === 0) return;
    const last = batches[batches.length - 1]!.revision;
    this.notifiedThrough = Math.max(this.notifiedThrough, last);
    if (this.synced.size === 0) return;
    // Per watcher, its events of all the batches in order: one send each, never splitting a revision.
    const outs = new EventCollector((ev, want, cache) => this.withPrev(ev, want, cache));
    for (const batch of batches) {
      for (const ev of batch.events) outs.offer(this.synced, ev, batch.revision);
    }
    for (const [w, out] of outs.byWatcher) this.deliver(w, out, last);
  }

  /** Moves a synced watcher out of the synced set, owed everything after what was notified. */
  private unsync(w: Watcher): void {
    this.synced.delete(w);
    w.synced = false;
    w.nextRev = Math.max(w.nextRev, this.notifiedThrough + 1);
  }

  /** Called after a compaction took effect: unsynced watchers behind it get `compacted` on the next catch-up round. */
  compacted(): void {
    this.scheduleCatchUp();
  }

  /**
   * The store was reloaded from a Raft snapshot (its revision jumped): every watcher catches up
   * from the new store's history, or gets `compacted` when that history no longer reaches its
   * next revision (etcd's watchableStore.Restore moves all synced watchers to unsynced).
   */
  restored(): void {
    for (const w of this.synced.all()) {
      this.unsync(w);
      this.unsynced.add(w);
    }
    this.scheduleCatchUp();
  }

  /** Watcher owner callbacks. */
  cancel(w: Watcher): void {
    this.synced.delete(w);
    this.unsynced.delete(w);
  }

  resume(w: Watcher): void {
    // It was synced but blocked: anything it missed is re-read from history.
    if (w.synced) this.unsync(w);
    this.unsynced.add(w);
    this.scheduleCatchUp();
  }

  private deliver(w: Watcher, events: WatchEvent[], lastRev: number): void {
    const ok = w.sink.send(events);
    w.nextRev = lastRev + 1;
    if (!ok) {
      w.blocked = true;
      // Only a synced watcher leaves the synced set; one blocked during catch-up stays where it
      // is (unsync would move it past everything it has not been sent yet).
      if (w.synced) this.unsync(w);
    }
  }

  private scheduleCatchUp(): void {
    if (this.catchUpScheduled) return;
    this.catchUpScheduled = true;
    setImmediate(() => {
      this.catchUpScheduled = false;
      this.catchUp();
    });
  }

  /**
   * One bounded round of catch-up: the unsynced, unblocked watchers furthest behind share one
   * scan of at most {@link WATCH_BATCH_MAX_REVISIONS} revisions of history (etcd's syncWatchers),
   * so a thousand clients resuming their watches after a reconnect read the history once, not a
   * thousand times. Rounds repeat on later turns until every watcher is synced.
   */
  private catchUp(): void {
    const due: Watcher[] = [];
    for (const w of this.unsynced) {
      if (w.blocked || w.canceled) continue;
      if (w.nextRev < this.kv.compactRevision) {
        this.unsynced.delete(w);
        w.canceled = true;
        w.sink.compacted(this.kv.compactRevision);
        continue;
      }
      due.push(w);
    }
    if (due.length === 0) return;
    const readRev = this.kv.readRevision;
    let from = readRev + 1;
    for (const w of due) from = Math.min(from, w.nextRev);
    const upTo = Math.min(readRev, from + WATCH_BATCH_MAX_REVISIONS - 1);
    const group = due.filter((w) => w.nextRev <= upTo);
    const outs = group.length > 0 ? this.readHistory(group, from, upTo) : new Map<Watcher, WatchEvent[]>();
    let again = false;
    for (const w of due) {
      if (w.nextRev <= upTo) {
        const events = outs.get(w);
        if (events !== undefined) {
          this.deliver(w, events, upTo);
          if (w.blocked) continue;
        } else {
          w.nextRev = upTo + 1;
        }
      }
      if (w.nextRev > readRev) {
        this.unsynced.delete(w);
        w.synced = true;
        this.synced.add(w);
      } else {
        again = true;
      }
    }
    if (again) this.scheduleCatchUp();
  }

  /**
   * Reads revisions [from, to] of the stored history once and returns, per watcher of `group`
   * that any of them concerns, its events: those at or after its own next revision that it
   * accepts, in revision order.
   */
  private readHistory(group: Watcher[], from: number, to: number): Map<Watcher, WatchEvent[]> {
    const index = new WatcherIndex();
    for (const w of group) index.add(w);
    const outs = new EventCollector((ev, want, cache) => this.withPrev(ev, want, cache));
    this.kv.backend.read((txn) => {
      const range = { start: encodeRevisionKey(from, 0), end: encodeRevisionKey(to + 1, 0) };
      for (const { key, value } of txn.iterate(DB.kv, range)) {
        const main = decodeRevisionMain(key);
        assert(main >= from && main <= to, 'history scan out of bounds');
        const rec = decodeRecord(value, main);
        const ev: KvEvent = rec.tombstone
          ? { type: 'delete', kv: { ...rec.kv, createRevision: 0, version: 0, value: EMPTY, lease: 0n } }
          : { type: 'put', kv: rec.kv };
        outs.offer(index, ev, main);
      }
    });
    return outs.byWatcher;
  }

  /** Adds prev_kv (the key at mod_revision − 1) when asked for; absent for creations or if compacted. */
  private withPrev(ev: KvEvent, wantPrev: boolean, cache: Map<KvEvent, KeyValue | undefined>): WatchEvent {
    if (!wantPrev) return ev;
    if (ev.type === 'put' && ev.kv.version === 1) return ev;
    if (!cache.has(ev)) cache.set(ev, this.previous(keyString(ev.kv.key), ev.kv.modRevision - 1));
    const prevKv = cache.get(ev);
    return prevKv ? { ...ev, prevKv } : ev;
  }

  private previous(k: KeyString, rev: number): KeyValue | undefined {
    if (rev < this.kv.compactRevision) return undefined;
    const v = this.kv.index.visibleAt(k, rev);
    if (!v) return undefined;
    return this.kv.backend.read((txn) => readKv(txn, v));
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Gathers, per watcher, the events of one notify or catch-up round that it is owed: at or after
 * its next revision, accepted by its filters, with prev_kv looked up once per event.
 */
class EventCollector {
  readonly byWatcher = new Map<Watcher, WatchEvent[]>();
  private readonly prevCache = new Map<KvEvent, KeyValue | undefined>();

  constructor(private readonly withPrev: (ev: KvEvent, wantPrev: boolean, cache: Map<KvEvent, KeyValue | undefined>) => WatchEvent) {}

  /** Offers `ev` (of `revision`) to the watchers of `index` whose key or range holds its key. */
  offer(index: WatcherIndex, ev: KvEvent, revision: number): void {
    const k = keyString(ev.kv.key);
    index.forEachHolding(k, (w) => {
      if (revision < w.nextRev || !w.accepts(ev, k)) return;
      let out = this.byWatcher.get(w);
      if (!out) this.byWatcher.set(w, (out = []));
      out.push(this.withPrev(ev, w.options.prevKv, this.prevCache));
    });
  }
}
