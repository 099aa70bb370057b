/**
 * The etcd Watch service (`/etcdserverpb.Watch/Watch`, bidi): each call is one
 * {@link WatchStream} holding many watchers (etcd.md §2.6). Events come from the member's watch
 * hub, which delivers every durable change exactly once and in order.
 *
 * Like etcd, a client's half-close does not end the call (events keep flowing until the client
 * cancels); cancellation, a transport failure or server shutdown frees every watcher.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { GRPC_OVERHEAD_BYTES } from '../../util/limits';
import { GrpcServer } from '../grpc/grpc-server';
import { Member } from '../member';
import { grpcError } from './kv-service';
import { DEFAULT_MAX_WATCHERS, WatchStream } from './watch-stream';

/** etcd's default progress-notification period (`--experimental-watch-progress-notify-interval`). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60_000;

/** etcd's floor for the progress period. */
export const MIN_PROGRESS_INTERVAL_MS = 100;

/** Options of {@link registerWatchService}; every field has a default. */
export interface WatchServiceOptions {
  /** Progress-notification period in ms (default 10 min, raised to at least 100 ms as etcd does). */
  progressIntervalMs?: number;
  /** Watchers per stream (default MAX_WATCHERS_PER_STREAM). */
  maxWatchersPerStream?: number;
}

/** Registers the Watch service of `member` on `server`. */
export function registerWatchService(server: GrpcServer, member: Member, options: WatchServiceOptions = {}): void {
  const settings = {
    fragmentBytes: member.config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    progressIntervalMs: Math.max(MIN_PROGRESS_INTERVAL_MS, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS),
    maxWatchers: options.maxWatchersPerStream ?? DEFAULT_MAX_WATCHERS,
  };
  server.bidi('/etcdserverpb.Watch/Watch', pb.WatchRequest.decode, pb.WatchResponse.encode, (call, ctx) => {
    const stream = new WatchStream(member, call, settings);
    if (ctx.cancelled) return;
    ctx.signal.addEventListener('abort', () => stream.close(), { once: true });
    call.onMessage((req) => {
      try {
        stream.handle(req);
      } catch (err) {
        stream.close();
        call.end(grpcError(err));
      }
    });
    // etcd keeps serving events after the client half-closes; only cancellation ends the call.
    call.onHalfClose(() => {});
  });
}
