/**
 * The standard gRPC health service (`grpc.health.v1.Health`), which etcd registers on its client
 * port (etcd.md §1.1): load balancers and grpc-go's client-side health checking call it.
 *
 * The server as a whole (service "") is SERVING while this member knows a leader and
 * NOT_SERVING without one (etcd 3.5's health notifier flips on leader loss). Any other service
 * name is unknown: Check answers NOT_FOUND `unknown service` and Watch sends SERVICE_UNKNOWN, as
 * grpc-go's health server does.
 */
import * as health from '../../../protocol/etcd/generated/health';
import { GrpcServer } from '../grpc/grpc-server';
import { GrpcStatus, GrpcStatusError } from '../grpc/grpc-status';
import type { CallContext, ServerStreamWriter } from '../grpc/grpc-method';
import { Member } from '../member';

const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = health.HealthCheckResponse_ServingStatus;

/** How often a Watch re-checks the status; a change is sent at most this late. */
export const HEALTH_WATCH_INTERVAL_MS = 500;

/** The status of `service` on `member` now (SERVICE_UNKNOWN for names other than ""). */
export function servingStatus(member: Member, service: string): health.HealthCheckResponse_ServingStatus {
  if (service !== '') return SERVICE_UNKNOWN;
  return member.raftStatus().leader === 0n ? NOT_SERVING : SERVING;
}

/** Registers `grpc.health.v1.Health/Check` and `/Watch`. */
export function registerHealthService(server: GrpcServer, member: Member): void {
  server.unary(health.HealthService.Check.path, health.HealthCheckRequest.decode, health.HealthCheckResponse.encode, (req) => {
    const status = servingStatus(member, req.service);
    if (status === SERVICE_UNKNOWN) throw new GrpcStatusError(GrpcStatus.NOT_FOUND, 'unknown service');
    return { status };
  });
  server.serverStream(health.HealthService.Watch.path, health.HealthCheckRequest.decode, health.HealthCheckResponse.encode, (req, out, ctx) =>
    watch(member, req.service, out, ctx),
  );
}

/** Sends the status now and on every change until the client goes away. */
function watch(member: Member, service: string, out: ServerStreamWriter<health.HealthCheckResponse>, ctx: CallContext): Promise<void> {
  return new Promise((resolve) => {
    let last = servingStatus(member, service);
    out.write({ status: last });
    const timer = setInterval(() => {
      if (ctx.cancelled || out.ended) return stop();
      const now = servingStatus(member, service);
      if (now !== last) out.write({ status: (last = now) });
    }, HEALTH_WATCH_INTERVAL_MS);
    const stop = (): void => {
      clearInterval(timer);
      resolve();
    };
    ctx.signal.addEventListener('abort', stop, { once: true });
  });
}
