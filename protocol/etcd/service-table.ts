/**
 * Every RPC Coracle serves on the etcd client port, with its gRPC path, gateway HTTP paths,
 * message codecs and streaming kind: the generated method descriptors joined with
 * {@link GATEWAY_ROUTES}. The gRPC transport and the JSON gateway route by this one table.
 */
import { GATEWAY_ROUTES } from './gateway-routes';
import { SERVICE_METHODS } from './generated/descriptors';
import type { MessageCodec } from './wire/message-codec';

/**
 * How many messages flow each way (same words as core/server's gRPC transport):
 * `unary` 1→1, `serverStream` 1→n, `clientStream` n→1, `bidi` n→n.
 */
export type StreamingKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/** One RPC. */
export interface RpcMethod {
  /** `etcdserverpb.KV`. */
  readonly service: string;
  /** `Range`. */
  readonly name: string;
  /** `/etcdserverpb.KV/Range`. */
  readonly grpcPath: string;
  /**
   * Gateway paths, all `POST`: etcd 3.5's bindings (primary first) followed by their
   * `/v3beta/` aliases (etcd 3.4). Empty for methods without a gateway route (Health).
   */
  readonly httpPaths: readonly string[];
  readonly requestType: string;
  readonly responseType: string;
  readonly kind: StreamingKind;
  readonly request: MessageCodec<unknown>;
  readonly response: MessageCodec<unknown>;
}

function kindOf(requestStream: boolean, responseStream: boolean): StreamingKind {
  if (requestStream) return responseStream ? 'bidi' : 'clientStream';
  return responseStream ? 'serverStream' : 'unary';
}

function withBetaAliases(paths: readonly string[]): readonly string[] {
  return [...paths, ...paths.map((p) => p.replace(/^\/v3\//, '/v3beta/'))];
}

/** All methods, in .proto order. */
export const ETCD_METHODS: readonly RpcMethod[] = SERVICE_METHODS.map((m) => ({
  service: m.service,
  name: m.name,
  grpcPath: m.path,
  httpPaths: withBetaAliases(GATEWAY_ROUTES[m.path] ?? []),
  requestType: m.requestType,
  responseType: m.responseType,
  kind: kindOf(m.requestStream, m.responseStream),
  request: m.request,
  response: m.response,
}));

const byGrpcPath = new Map(ETCD_METHODS.map((m) => [m.grpcPath, m]));
const byHttpPath = new Map(ETCD_METHODS.flatMap((m) => m.httpPaths.map((p) => [p, m] as const)));

/** The method served at gRPC path `path` (`/etcdserverpb.KV/Range`), if any. */
export function methodByGrpcPath(path: string): RpcMethod | undefined {
  return byGrpcPath.get(path);
}

/** The method the gateway serves at HTTP path `path` (`/v3/kv/range`, `/v3beta/kv/range`), if any. */
export function methodByHttpPath(path: string): RpcMethod | undefined {
  return byHttpPath.get(path);
}
