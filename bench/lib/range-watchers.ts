/**
 * Opens many prefix watches on an etcd v3 endpoint (one Watch stream, `/w/<i>/` each, prefixes
 * no benchmark key falls in), so a write benchmark can measure what idle range watchers cost
 * each write: etcd finds the watchers of a key in an interval tree, and so must we.
 */
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../protocol/etcd/generated/rpc';
import type { DeepPartial } from '../../protocol/etcd/wire/message-codec';

/** Watches held open; `close` cancels the stream. */
export interface HeldWatches {
  close(): void;
}

/**
 * Creates `count` prefix watches on `endpoint` (host:port) and resolves once the server
 * confirmed all of them; rejects if it has not within `timeoutMs` or the stream fails.
 */
export function holdRangeWatchers(endpoint: string, count: number, timeoutMs = 60_000): Promise<HeldWatches> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    '/etcdserverpb.Watch/Watch',
    (m: DeepPartial<pb.WatchRequest>) => pb.WatchRequest.encode(m),
    (b: Buffer) => pb.WatchResponse.decode(b),
  );
  const close = (): void => {
    call.cancel();
    client.close();
  };
  return new Promise<HeldWatches>((resolve, reject) => {
    let created = 0;
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return; // the cancel of a later close() also ends the stream with an error
      settled = true;
      clearTimeout(timer);
      close();
      reject(new Error(`${endpoint}: ${why} after ${created} of ${count} watches were created`));
    };
    const timer = setTimeout(() => fail(`no confirmation within ${timeoutMs} ms`), timeoutMs);
    call.on('data', (r: pb.WatchResponse) => {
      if (!r.created || ++created < count) return;
      settled = true;
      clearTimeout(timer);
      resolve({ close });
    });
    call.on('error', (e: Error) => fail(`watch stream failed (${e.message})`));
    if (count === 0) {
      settled = true;
      clearTimeout(timer);
      resolve({ close });
      return;
    }
    for (let i = 0; i < count; i++) {
      call.write({ requestUnion: { $case: 'createRequest', createRequest: { key: Buffer.from(`/w/${i}/`), rangeEnd: Buffer.from(`/w/${i}0`) } } });
    }
  });
}
