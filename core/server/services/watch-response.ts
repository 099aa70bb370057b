/**
 * Shaping watch events into `WatchResponse` messages: the wire form of an event, one response
 * per revision for synced delivery, and etcd's fragmentation of oversized responses
 * (etcd.md §2.6). Pure functions: no stream, no store.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import * as mvccpb from '../../../protocol/etcd/generated/kv';
import { WatchEvent } from '../../mvcc/watcher';
import { pbKv } from './pb-mapping';

/** A watch event on the wire (prev_kv only when the store attached one). */
export function pbEvent(ev: WatchEvent): mvccpb.Event {
  return {
    type: ev.type === 'put' ? mvccpb.Event_EventType.PUT : mvccpb.Event_EventType.DELETE,
    kv: pbKv(ev.kv),
    prevKv: ev.prevKv ? pbKv(ev.prevKv) : undefined,
  };
}

/**
 * Splits events (in revision order) into runs of one revision each. A synced etcd watcher gets
 * one response per write transaction, stamped with that transaction's revision; the store may
 * hand several durable revisions over at once, so the service splits them back.
 */
export function byRevision(events: WatchEvent[]): WatchEvent[][] {
  const runs: WatchEvent[][] = [];
  let run: WatchEvent[] = [];
  for (const ev of events) {
    if (run.length > 0 && run[0]!.kv.modRevision !== ev.kv.modRevision) {
      runs.push(run);
      run = [];
    }
    run.push(ev);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Bytes a varint takes on the wire. */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

/** Bytes one event adds to an encoded `WatchResponse` (field 11: tag, length, message). */
function eventFieldBytes(ev: mvccpb.Event): number {
  const n = mvccpb.Event.encode(ev).length;
  return 1 + varintLength(n) + n;
}

/**
 * etcd's fragmentation for a watcher created with `fragment=true`: a response whose encoded size
 * is at least `maxBytes` and that holds two or more events is cut, by events, into pieces each
 * below `maxBytes` (a piece always holds at least one event, so a single huge event still goes
 * out whole); every piece but the last carries `fragment=true`. Otherwise the response is
 * returned as is. Events are never reordered or dropped, so the client's concatenation of the
 * pieces equals the original.
 */
export function fragmentResponse(resp: pb.WatchResponse, maxBytes: number): pb.WatchResponse[] {
  if (resp.events.length < 2 || pb.WatchResponse.encode(resp).length < maxBytes) return [resp];
  // Pieces are measured with the fragment flag set, as etcd measures them.
  const base = pb.WatchResponse.encode({ ...resp, events: [], fragment: true }).length;
  const sizes = resp.events.map(eventFieldBytes);
  const pieces: pb.WatchResponse[] = [];
  let idx = 0;
  while (idx < resp.events.length) {
    const start = idx;
    let size = base;
    while (idx < resp.events.length) {
      size += sizes[idx]!;
      if (idx > start && size >= maxBytes) break;
      idx++;
    }
    pieces.push({ ...resp, events: resp.events.slice(start, idx), fragment: idx < resp.events.length });
  }
  return pieces;
}
