/**
 * `RemoteBackend`: the {@link KvBackend} over any etcd v3 cluster through gRPC (`@grpc/grpc-js`
 * and our generated codecs; DESIGN §4), so `coracle zk-proxy --endpoints=...` fronts real etcd
 * exactly as the in-process core. Unary calls on our own node:http2 client (grpc-unary-client.ts);
 * on one grpc-js channel (pick-first over the endpoints), one bidi stream per watch and one
 * shared bidi stream for lease keep-alives. Both speak TLS and carry an etcd user's token when
 * given credentials (etcd-credentials.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { MessageCodec, rpc } from '../../protocol/etcd';
import { ZkLogger, silentLogger } from '../logger';
import {
  KvBackend, KvError, KvLeaseInfo, KvRangeOptions, KvRangeResult, KvTxn, KvTxnResult, KvWatch, KvWatchHandler,
  KvWatchOptions,
} from './kv-backend';
import { eventOf, kvErrorOf, num, opResults, rangeRequest, rangeResult, txnRequest } from './etcd-conversions';
import { EtcdCredentials, EtcdToken, isInvalidToken } from './etcd-credentials';
import { EtcdQuorumProbe } from './etcd-quorum-probe';
import { GrpcUnaryClient } from './grpc-unary-client';

/** Largest response message accepted (a page of the tree load). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;


/** Options of the remote backend. */
export interface RemoteBackendOptions {
  /** etcd client URLs or host:port pairs. */
  endpoints: string[];
  /** Per-call deadline (default 10 s). */
  callTimeoutMs?: number;
  logger?: ZkLogger;
  /** TLS and an etcd user (absent: plaintext, no authentication). */
  credentials?: EtcdCredentials;
}

/** The grpc-js target for a list of endpoints: `ipv4:` pick-first when all are IPv4 literals. */
export function grpcTarget(endpoints: string[]): string {
  const hosts = endpoints.map((e) => e.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''));
  if (hosts.length === 0) throw new Error('no etcd endpoints');
  if (hosts.every((h) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(h))) return `ipv4:${hosts.join(',')}`;
  return `dns:${hosts[0]}`;
}

/** The backend over etcd gRPC. */
export class RemoteBackend implements KvBackend {
  /** Streams (watch, lease keep-alive). */
  private readonly client: grpc.Client;
  /** Unary calls: cheaper per call than grpc-js (grpc-unary-client.ts). */
  private readonly unaryClient: GrpcUnaryClient;
  private readonly timeout: number;
  private readonly logger: ZkLogger;
  private keepAliveStream: grpc.ClientDuplexStream<rpc.LeaseKeepAliveRequest, rpc.LeaseKeepAliveResponse> | undefined;
  private readonly keepAliveWaiters = new Map<bigint, ((ttl: number) => void)[]>();
  private readonly watches = new Set<grpc.ClientDuplexStream<rpc.WatchRequest, rpc.WatchResponse>>();
  private closed = false;
  /** The user's token, when etcd authentication is on. */
  private readonly token: EtcdToken | undefined;
  private readonly tls: boolean;
  /** Started by the first {@link hasQuorum} (read-only mode). */
  private quorum: EtcdQuorumProbe | undefined;

  constructor(opts: RemoteBackendOptions) {
    const { tls, user } = opts.credentials ?? {};
    this.tls = tls !== undefined;
    this.token = user ? new EtcdToken(() => this.authenticate(user.name, user.password)) : undefined;
    const channel = tls ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null) : grpc.credentials.createInsecure();
    this.client = new grpc.Client(grpcTarget(opts.endpoints), channel, {
      'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
      interceptors: this.token ? [tokenInterceptor(this.token)] : [],
    });
    this.timeout = opts.callTimeoutMs ?? 10_000;
    this.logger = opts.logger ?? silentLogger;
    this.unaryClient = new GrpcUnaryClient({ endpoints: opts.endpoints, maxResponseBytes: MAX_RESPONSE_BYTES, logger: this.logger, tls });
  }

  /** etcd's Authenticate for the user; a refusal says what to fix. */
  private async authenticate(name: string, password: string): Promise<string> {
    let bytes: Buffer;
    try {
      bytes = await this.unaryClient.call('/etcdserverpb.Auth/Authenticate', rpc.AuthenticateRequest.encode({ name, password }), this.timeout);
    } catch (e) {
      const err = kvErrorOf(e);
      if (err.code === 'unavailable') throw withHint(err, false, this.tls);
      throw new KvError(err.code, `etcd refused user ${name} (check --user, and that etcd authentication is enabled): ${err.message}`);
    }
    return rpc.AuthenticateResponse.decode(bytes).token;
  }

  /** One unary call, with the user's token; a refused token is replaced once and the call repeated. */
  private async unary<Req, Res>(path: string, req: MessageCodec<Req>, res: MessageCodec<Res>, arg: Req, timeoutMs = this.timeout): Promise<Res> {
    if (this.closed) throw new KvError('closed', 'backend closed');
    const message = req.encode(arg as Parameters<typeof req.encode>[0]);
    for (let attempt = 0; ; attempt++) {
      const token = await this.token?.get();
      try {
        return res.decode(await this.unaryClient.call(path, message, timeoutMs, token === undefined ? undefined : { token }));
      } catch (e) {
        // etcd refuses a stale token before doing anything: repeating the call is safe.
        if (token !== undefined && attempt === 0 && isInvalidToken(e)) {
          this.token!.invalidate(token);
          continue;
        }
        throw withHint(kvErrorOf(e), token === undefined, this.tls);
      }
    }
  }

  async range(key: Buffer, options?: KvRangeOptions): Promise<KvRangeResult> {
    const r = await this.unary('/etcdserverpb.KV/Range', rpc.RangeRequest, rpc.RangeResponse, rangeRequest(key, options));
    return rangeResult(r);
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    const r = await this.unary('/etcdserverpb.KV/Txn', rpc.TxnRequest, rpc.TxnResponse, txnRequest(txn));
    return { revision: num(r.header?.revision ?? 0n), succeeded: r.succeeded, results: opResults(r.responses) };
  }

  watch(options: KvWatchOptions, handler: KvWatchHandler): KvWatch {
    const stream = this.client.makeBidiStreamRequest(
      '/etcdserverpb.Watch/Watch', (m: rpc.WatchRequest) => rpc.WatchRequest.encode(m), (b: Buffer) => rpc.WatchResponse.decode(b),
    );
    this.watches.add(stream);
    let ended = false;
    const end = (e: KvError): void => {
      if (ended) return;
      ended = true;
      this.watches.delete(stream);
      stream.cancel();
      handler.onClosed(e);
    };
    stream.on('data', (r: rpc.WatchResponse) => {
      if (ended) return;
      if (r.canceled) {
        end(r.compactRevision > 0n ? new KvError('compacted', `mvcc: required revision has been compacted (${r.compactRevision})`) : new KvError('internal', r.cancelReason || 'watch canceled'));
        return;
      }
      if (r.events.length > 0) handler.onEvents(r.events.map(eventOf));
      // etcd 3.4 answers a progress request with its current revision even while this watcher
      // has undelivered events; it is passed on, but zkproxy's feed does not rely on it.
      else if (!r.created) handler.onProgress(num(r.header?.revision ?? 0n));
    });
    stream.on('error', (e) => {
      this.refused(e);
      end(this.closed ? new KvError('closed', 'backend closed') : kvErrorOf(e));
    });
    stream.on('end', () => end(new KvError(this.closed ? 'closed' : 'unavailable', 'watch stream ended')));
    stream.write({
      requestUnion: { $case: 'createRequest', createRequest: {
        key: options.key, rangeEnd: options.rangeEnd ?? Buffer.alloc(0), startRevision: BigInt(options.startRevision ?? 0),
        progressNotify: false, filters: [], prevKv: options.prevKv ?? false, watchId: 0n, fragment: false,
      } },
    });
    return {
      requestProgress: () => { if (!ended) stream.write({ requestUnion: { $case: 'progressRequest', progressRequest: {} } }); },
      cancel: () => { ended = true; this.watches.delete(stream); stream.cancel(); },
    };
  }

  async leaseGrant(ttlSeconds: number, id?: bigint): Promise<{ id: bigint; ttl: number }> {
    const r = await this.unary('/etcdserverpb.Lease/LeaseGrant', rpc.LeaseGrantRequest, rpc.LeaseGrantResponse, { TTL: BigInt(ttlSeconds), ID: id ?? 0n });
    if (r.error) throw kvErrorOf({ details: r.error });
    return { id: r.ID, ttl: num(r.TTL) };
  }

  private keepAlives(): grpc.ClientDuplexStream<rpc.LeaseKeepAliveRequest, rpc.LeaseKeepAliveResponse> {
    if (this.keepAliveStream) return this.keepAliveStream;
    const s = this.client.makeBidiStreamRequest(
      '/etcdserverpb.Lease/LeaseKeepAlive', (m: rpc.LeaseKeepAliveRequest) => rpc.LeaseKeepAliveRequest.encode(m),
      (b: Buffer) => rpc.LeaseKeepAliveResponse.decode(b),
    );
    s.on('data', (r: rpc.LeaseKeepAliveResponse) => {
      const q = this.keepAliveWaiters.get(r.ID);
      const w = q?.shift();
      if (q && q.length === 0) this.keepAliveWaiters.delete(r.ID);
      w?.(num(r.TTL));
    });
    const reset = (e: unknown): void => {
      if (this.keepAliveStream !== s) return;
      this.keepAliveStream = undefined;
      this.logger.debug({ err: String(e) }, 'lease keep-alive stream ended');
      const waiters = [...this.keepAliveWaiters.values()].flat();
      this.keepAliveWaiters.clear();
      for (const w of waiters) w(-1);
    };
    s.on('error', (e) => {
      this.refused(e);
      reset(e);
    });
    s.on('end', () => reset('end'));
    this.keepAliveStream = s;
    return s;
  }

  leaseKeepAlive(id: bigint): Promise<number> {
    if (this.closed) return Promise.reject(new KvError('closed', 'backend closed'));
    return new Promise((resolve, reject) => {
      const q = this.keepAliveWaiters.get(id) ?? [];
      q.push((ttl) => (ttl < 0 ? reject(new KvError('unavailable', 'keep-alive stream broke')) : resolve(ttl)));
      this.keepAliveWaiters.set(id, q);
      this.keepAlives().write({ ID: id });
    });
  }

  async leaseRevoke(id: bigint): Promise<void> {
    await this.unary('/etcdserverpb.Lease/LeaseRevoke', rpc.LeaseRevokeRequest, rpc.LeaseRevokeResponse, { ID: id });
  }

  async leaseTimeToLive(id: bigint, withKeys?: boolean): Promise<KvLeaseInfo> {
    const r = await this.unary('/etcdserverpb.Lease/LeaseTimeToLive', rpc.LeaseTimeToLiveRequest, rpc.LeaseTimeToLiveResponse, { ID: id, keys: withKeys ?? false });
    return { id: r.ID, ttl: num(r.TTL), grantedTtl: num(r.grantedTTL), keys: r.keys.map((k) => Buffer.from(k)) };
  }

  async clusterId(): Promise<bigint> {
    return (await this.status()).header?.clusterId ?? 0n;
  }

  /** Maintenance.Status of the member this backend talks to. */
  private status(timeoutMs = this.timeout): Promise<rpc.StatusResponse> {
    return this.unary('/etcdserverpb.Maintenance/Status', rpc.StatusRequest, rpc.StatusResponse, {} as rpc.StatusRequest, timeoutMs);
  }

  /**
   * Whether the etcd member this proxy talks to knows a leader, from a Status probe started by
   * the first call (etcd-quorum-probe.ts): what read-only mode switches on.
   */
  hasQuorum(): boolean {
    this.quorum ??= new EtcdQuorumProbe(async (timeoutMs) => (await this.status(timeoutMs)).leader);
    return this.quorum.hasQuorum();
  }

  /** A stream ended by a refused token: the next stream (the feed restarts its watch) authenticates again. */
  private refused(e: unknown): void {
    if (isInvalidToken(e)) this.token?.invalidate();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.quorum?.stop();
    for (const w of this.watches) w.cancel();
    this.watches.clear();
    this.keepAliveStream?.end();
    this.keepAliveStream = undefined;
    this.client.close();
    this.unaryClient.close();
  }
}

/** Sets etcd's `token` metadata on every grpc-js call, waiting for the token first. */
function tokenInterceptor(token: EtcdToken): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        token.get().then(
          (t) => {
            metadata.set('token', t);
            next(metadata, listener);
          },
          // No token, no call: the stream fails with the reason, as a refused call would.
          (e: unknown) => listener.onReceiveStatus({ code: grpc.status.UNAUTHENTICATED, details: (e as Error).message, metadata: new grpc.Metadata() }),
        );
      },
    });
}

/** OpenSSL's words for a certificate one side will not accept. */
const TLS_REFUSAL = /alert (bad certificate|certificate required|unknown ca|certificate (revoked|expired|unknown))|unable to (verify|get local issuer)|self[- ]signed certificate|certificate has expired|does not match certificate|altnames/i;

/** etcd's and OpenSSL's refusals say nothing of the flag that fixes them: add that. */
function withHint(e: KvError, anonymous: boolean, tls: boolean): KvError {
  if (anonymous && e.message.includes('user name is empty')) {
    return new KvError(e.code, `${e.message} (etcd authentication is enabled: give zk-proxy an etcd user with --user name:password)`);
  }
  if (tls && /alert|certificate|SSL/i.test(e.message)) {
    // etcd refusing our certificate (a TLS alert), or ours refusing etcd's, is no outage: no retry.
    const refused = TLS_REFUSAL.test(e.message);
    return new KvError(refused ? 'refused' : e.code, `${e.message} (check --cacert, --cert and --key against etcd's TLS flags)`);
  }
  return e;
}
