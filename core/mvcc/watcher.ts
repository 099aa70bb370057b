/**
 * One watcher registered with the {@link WatchableStore}: a key range, the next revision it is
 * owed, its options, and the sink that receives its events.
 */
import { KeyString } from '../util/bytes';
import { KeyValue } from './key-value';
import { KvEvent } from './kv-types';

/** An event as delivered to a watcher (with prev_kv when asked for and available). */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}

/** Receiver of a watcher's events. */
export interface WatchSink {
  /**
   * Delivers events of one or more whole revisions, in order. Returns false when the receiver's
   * buffer is full: the watcher is then moved to catch-up and nothing more is sent until
   * {@link WatcherHandle.resume} is called; no event is lost (they are re-read from history).
   */
  send(events: WatchEvent[]): boolean;
  /** The watcher's next revision was compacted away; it is removed (etcd: compact_revision + canceled). */
  compacted(compactRevision: number): void;
}

/** Options of a watch (etcd WatchCreateRequest, domain form). */
export interface WatchOptions {
  key: Buffer;
  /** Empty = single key; one zero byte = every key ≥ key. */
  rangeEnd: Buffer;
  /** First revision to deliver; 0 = from the next revision. */
  startRevision: number;
  prevKv: boolean;
  noPut: boolean;
  noDelete: boolean;
}

/** Handle returned to the watch's owner. */
export interface WatcherHandle {
  readonly id: number;
  /** Stops delivery; idempotent. */
  cancel(): void;
  /** Tells the store the sink has room again (after `send` returned false). */
  resume(): void;
  /** True when the watcher has everything up to the store's readable revision. */
  isSynced(): boolean;
}

/** Internal state of a watcher. */
export class Watcher implements WatcherHandle {
  /** Next revision owed to the sink. */
  nextRev: number;
  synced = false;
  /** True while the sink reported a full buffer. */
  blocked = false;
  canceled = false;

  constructor(
    readonly id: number,
    readonly start: KeyString,
    /** Exclusive end; undefined = unbounded. */
    readonly end: KeyString | undefined,
    readonly single: boolean,
    readonly options: WatchOptions,
    readonly sink: WatchSink,
    nextRev: number,
    private readonly owner: { cancel(w: Watcher): void; resume(w: Watcher): void },
  ) {
    this.nextRev = nextRev;
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.owner.cancel(this);
  }

  resume(): void {
    if (!this.blocked || this.canceled) return;
    this.blocked = false;
    this.owner.resume(this);
  }

  isSynced(): boolean {
    return this.synced && !this.blocked;
  }

  /** True when the event's key is in range and not filtered out. */
  accepts(ev: KvEvent, key: KeyString): boolean {
    if (ev.type === 'put' ? this.options.noPut : this.options.noDelete) return false;
    if (key < this.start) return false;
    return this.end === undefined || key < this.end;
  }
}
