/**
 * Raw etcd v3 gRPC access for the watch/lease tests: grpc-js with our generated codecs, so the
 * very same request bytes go to real etcd and to coracle. Responses are turned into plain,
 * comparable records with what legitimately differs between two servers masked (cluster and
 * member ids, raft term); revisions are kept, since both servers start empty.
 *
 * Every wait is bounded: a helper returns what arrived by its deadline instead of hanging, so a
 * missing response shows up as a difference in the transcript, not as a stuck test.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import * as pb from '../../protocol/etcd/generated/rpc';
import * as mvccpb from '../../protocol/etcd/generated/kv';
import type { DeepPartial, MessageCodec } from '../../protocol/etcd/wire/message-codec';

/** A grpc-js client on `host:port` (an `http://` prefix is dropped). */
export function dial(endpoint: string): grpc.Client {
  return new grpc.Client(endpoint.replace(/^http:\/\//, ''), grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
}

/** The outcome of a unary call: the decoded response, or the status code and text. */
export type UnaryOutcome<Res> = { ok: true; response: Res } | { ok: false; code: number; details: string };

/** One unary call with the generated codecs; never rejects (bounded by `timeoutMs`). */
export function unary<Req, Res>(
  client: grpc.Client,
  path: string,
  reqCodec: MessageCodec<Req>,
  resCodec: MessageCodec<Res>,
  request: DeepPartial<Req>,
  timeoutMs = 10_000,
): Promise<UnaryOutcome<Res>> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (m: DeepPartial<Req>) => reqCodec.encode(m),
      (b: Buffer) => resCodec.decode(b),
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, response) => {
        if (err) resolve({ ok: false, code: err.code, details: err.details });
        else resolve({ ok: true, response: response as Res });
      },
    );
  });
}

/** A bidi stream whose responses are queued and taken in bounded waits. */
export class StreamTap<Req, Res> {
  private readonly queue: Res[] = [];
  private wake: (() => void) | null = null;
  readonly call: grpc.ClientDuplexStream<DeepPartial<Req>, Res>;
  /** The stream's final error (status), once it ended with one. */
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(client: grpc.Client, path: string, reqCodec: MessageCodec<Req>, resCodec: MessageCodec<Res>) {
    this.call = client.makeBidiStreamRequest(path, (m: DeepPartial<Req>) => reqCodec.encode(m), (b: Buffer) => resCodec.decode(b));
    this.call.on('data', (r: Res) => {
      this.queue.push(r);
      this.notify();
    });
    this.call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.ended = true;
      this.notify();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.notify();
    });
  }

  /** Sends one request. */
  send(req: DeepPartial<Req>): void {
    this.call.write(req);
  }

  /**
   * Waits until at least `n` responses are queued (or `timeoutMs` passed, or the stream ended),
   * then waits `settleMs` more for stragglers, and returns everything queued.
   */
  async take(n: number, timeoutMs = 8000, settleMs = 150): Promise<Res[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length < n && !this.ended && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    return this.queue.splice(0, this.queue.length);
  }

  /** Cancels the call. */
  close(): void {
    this.call.cancel();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }
}

/** A Watch stream. */
export function watchStream(client: grpc.Client): StreamTap<pb.WatchRequest, pb.WatchResponse> {
  return new StreamTap(client, '/etcdserverpb.Watch/Watch', pb.WatchRequest, pb.WatchResponse);
}

/** A LeaseKeepAlive stream. */
export function keepAliveStream(client: grpc.Client): StreamTap<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse> {
  return new StreamTap(client, '/etcdserverpb.Lease/LeaseKeepAlive', pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse);
}

/** A create request. */
export function createReq(c: DeepPartial<pb.WatchCreateRequest>): DeepPartial<pb.WatchRequest> {
  return { requestUnion: { $case: 'createRequest', createRequest: c } };
}

/** A cancel request. */
export function cancelReq(watchId: bigint): DeepPartial<pb.WatchRequest> {
  return { requestUnion: { $case: 'cancelRequest', cancelRequest: { watchId } } };
}

/** A progress request. */
export function progressReq(): DeepPartial<pb.WatchRequest> {
  return { requestUnion: { $case: 'progressRequest', progressRequest: {} } };
}

/** Bytes as text, or a length and digest when long (large values would swamp a diff). */
function bytesText(b: Buffer | undefined): string {
  if (b === undefined) return '';
  if (b.length <= 64) return b.toString('latin1');
  return `<${b.length} bytes ${createHash('sha1').update(b).digest('hex').slice(0, 12)}>`;
}

function kvRecord(kv: mvccpb.KeyValue | undefined): Record<string, string> | null {
  if (kv === undefined) return null;
  return {
    key: bytesText(kv.key),
    create: String(kv.createRevision),
    mod: String(kv.modRevision),
    version: String(kv.version),
    value: bytesText(kv.value),
    lease: String(kv.lease),
  };
}

/** A WatchResponse as a comparable record: ids masked, revision kept, every watch field kept. */
export function watchRecord(r: pb.WatchResponse): Record<string, unknown> {
  return {
    rev: String(r.header?.revision ?? 'none'),
    watchId: String(r.watchId),
    created: r.created,
    canceled: r.canceled,
    compactRevision: String(r.compactRevision),
    cancelReason: r.cancelReason,
    fragment: r.fragment,
    events: r.events.map((e) => ({ type: e.type === mvccpb.Event_EventType.PUT ? 'PUT' : 'DELETE', kv: kvRecord(e.kv), prevKv: kvRecord(e.prevKv) })),
  };
}

/**
 * Responses of several watchers as records, ordered by watch id (stable): etcd delivers to the
 * watchers of one write in map order, so only each watcher's own order is meaningful.
 */
export function watchRecords(rs: pb.WatchResponse[]): Array<Record<string, unknown>> {
  const sorted = rs.map((r, i) => ({ r, i })).sort((a, b) => (a.r.watchId === b.r.watchId ? a.i - b.i : a.r.watchId < b.r.watchId ? -1 : 1));
  return sorted.map(({ r }) => watchRecord(r));
}

/** A unary outcome as a record, keeping the status code and text and the given response fields. */
export function outcomeRecord<Res>(o: UnaryOutcome<Res>, fields: (r: Res) => Record<string, unknown>): Record<string, unknown> {
  return o.ok ? { ok: true, ...fields(o.response) } : { ok: false, code: o.code, details: o.details };
}

/** KV helpers used to drive the stores. */
export const kv = {
  put: (c: grpc.Client, key: string | Buffer, value: string | Buffer, lease = 0n) =>
    unary(c, '/etcdserverpb.KV/Put', pb.PutRequest, pb.PutResponse, { key: Buffer.from(key), value: Buffer.from(value), lease }),
  del: (c: grpc.Client, key: string, rangeEnd = '') =>
    unary(c, '/etcdserverpb.KV/DeleteRange', pb.DeleteRangeRequest, pb.DeleteRangeResponse, { key: Buffer.from(key), rangeEnd: Buffer.from(rangeEnd) }),
  compact: (c: grpc.Client, revision: bigint) =>
    unary(c, '/etcdserverpb.KV/Compact', pb.CompactionRequest, pb.CompactionResponse, { revision, physical: true }),
  txnPuts: (c: grpc.Client, pairs: Array<[string, string | Buffer]>) =>
    unary(c, '/etcdserverpb.KV/Txn', pb.TxnRequest, pb.TxnResponse, {
      success: pairs.map(([k, v]) => ({ request: { $case: 'requestPut' as const, requestPut: { key: Buffer.from(k), value: Buffer.from(v) } } })),
    }),
};

/** Lease helpers. */
export const lease = {
  grant: (c: grpc.Client, TTL: bigint, ID = 0n) => unary(c, '/etcdserverpb.Lease/LeaseGrant', pb.LeaseGrantRequest, pb.LeaseGrantResponse, { TTL, ID }),
  revoke: (c: grpc.Client, ID: bigint) => unary(c, '/etcdserverpb.Lease/LeaseRevoke', pb.LeaseRevokeRequest, pb.LeaseRevokeResponse, { ID }),
  timeToLive: (c: grpc.Client, ID: bigint, keys: boolean) =>
    unary(c, '/etcdserverpb.Lease/LeaseTimeToLive', pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse, { ID, keys }),
  leases: (c: grpc.Client) => unary(c, '/etcdserverpb.Lease/LeaseLeases', pb.LeaseLeasesRequest, pb.LeaseLeasesResponse, {}),
};
