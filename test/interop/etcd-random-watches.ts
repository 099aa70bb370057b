/**
 * Random watches over a random program's history (etcd-random-diff.test.ts): once a program has
 * run, each server gets the same watch stream with the same creates (a key, a prefix or from a key,
 * starting at the program's first revision (possibly compacted away), at the oldest one kept,
 * half-way, now or later;
 * with or without each filter and prev_kv), and what the watches deliver must agree. How events
 * are split into responses is left out: clients see a watch's events in order whatever the split.
 */
import fc from 'fast-check';
import type * as grpc from '@grpc/grpc-js';
import * as pb from '../../protocol/etcd/generated/rpc';
import type { DeepPartial } from '../../protocol/etcd/wire/message-codec';
import { createReq, watchRecord, watchStream } from './etcd-watch-harness';
import { keyOf, NAMES, endOf, type StepContext } from './etcd-random-workload';

/** One watch to create. */
export interface WatchSpec {
  name: number;
  end: 'single' | 'prefix' | 'from';
  start: 'first' | 'kept' | 'middle' | 'zero' | 'next';
  filter: 'none' | 'noPut' | 'noDelete';
  prevKv: boolean;
}

const spec: fc.Arbitrary<WatchSpec> = fc.record({
  name: fc.nat({ max: NAMES.length - 1 }),
  end: fc.constantFrom<WatchSpec['end']>('single', 'single', 'prefix', 'prefix', 'from'),
  start: fc.constantFrom<WatchSpec['start']>('first', 'kept', 'kept', 'middle', 'middle', 'zero', 'next'),
  filter: fc.constantFrom<WatchSpec['filter']>('none', 'none', 'none', 'noPut', 'noDelete'),
  prevKv: fc.boolean(),
});

/** `count` sets of 1–5 watches, the same for the same seed. */
export function watchSets(seed: number, count: number): WatchSpec[][] {
  return fc.sample(fc.array(spec, { minLength: 1, maxLength: 5 }), { seed, numRuns: count });
}

/** The create request of `w` after a program that ran from `ctx.first` to `ctx.revision`. */
export function createOf(ctx: StepContext, w: WatchSpec): DeepPartial<pb.WatchRequest> {
  const key = { name: w.name };
  // 'first' may be compacted away; 'kept' and 'middle' are still in the history.
  const kept = Math.max(ctx.first + 1, ctx.compacted);
  const starts = { first: ctx.first + 1, kept, middle: Math.floor((kept + ctx.revision) / 2), zero: 0, next: ctx.revision + 1 };
  const filters = { none: [], noPut: [pb.WatchCreateRequest_FilterType.NOPUT], noDelete: [pb.WatchCreateRequest_FilterType.NODELETE] }[w.filter];
  return createReq({ key: keyOf(ctx, key), rangeEnd: endOf(ctx, key, w.end, 0), startRevision: BigInt(starts[w.start]), filters, prevKv: w.prevKv });
}

/** What a stream of watches delivered, comparable across servers. */
export interface WatchReplay {
  control: Array<Record<string, unknown>>;
  events: Array<[watchId: string, events: unknown[]]>;
  streamError: string | undefined;
}

/**
 * Creates the watches on one stream of `client` and returns what they delivered, once the stream
 * has been quiet for a moment (bounded: about 5 s at most): the responses that are not plain event
 * batches (created, canceled, compacted), and each watch's events in order.
 */
export async function replayWatches(client: grpc.Client, creates: DeepPartial<pb.WatchRequest>[]): Promise<WatchReplay> {
  const stream = watchStream(client);
  try {
    for (const c of creates) stream.send(c);
    const got = await stream.take(creates.length, 5000, 300);
    for (let i = 0; i < 10; i++) {
      const more = await stream.take(1, 300, 0);
      if (more.length === 0) break;
      got.push(...more);
    }
    // Per watch in order; across watches the order is timing (etcd reports compactions from a
    // background loop, after every create of the batch).
    const control = got.filter((r) => r.created || r.canceled || r.compactRevision !== 0n)
      .map((r, i) => ({ r, i }))
      .sort((a, b) => Number(a.r.watchId - b.r.watchId) || a.i - b.i)
      .map(({ r }) => ({ ...watchRecord(r), events: undefined }));
    const events = new Map<string, unknown[]>();
    for (const r of got) {
      const id = String(r.watchId);
      events.set(id, [...(events.get(id) ?? []), ...(watchRecord(r).events as unknown[])]);
    }
    return { control, events: [...events].sort(([a], [b]) => Number(a) - Number(b)), streamError: stream.error?.details };
  } finally {
    stream.close();
  }
}
