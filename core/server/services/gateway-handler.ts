/**
 * etcd's HTTP/JSON gateway on the client port (etcd.md §4.5): `POST /v3/<service>/<method>` (and
 * 3.4's `/v3beta/` aliases) with a JSON body, answered in grpc-gateway v1's JSON. Every request
 * runs the very handler registered on the {@link GrpcServer} for that RPC, through its decoder,
 * limits and encoder, so a service works over the gateway as soon as it is registered.
 *
 * Unary: one JSON object in, one out (errors as `{"error","message","code"}` with an HTTP status
 * from the gRPC code). Server-streaming and bidi (watch, lease keep-alive, snapshot): the body's
 * JSON messages go in, then newline-delimited `{"result":…}` lines come out until the stream
 * ends or the client disconnects.
 */
import type { ServerResponse } from 'node:http';
import type { HttpRequest, HttpResponse } from '../grpc/client-listener';
import type { GrpcServer } from '../grpc/grpc-server';
import type { BidiHandler, ServerStreamHandler } from '../grpc/grpc-method';
import { GrpcStatus, GrpcStatusError } from '../grpc/grpc-status';
import { methodByHttpPath, toGatewayJson, type RpcMethod } from '../../../protocol/etcd';
import { httpStatusOf, unaryErrorBody } from './gateway-errors';
import { parseMessages, readBody, requestBytes } from './gateway-request';
import { GATEWAY_HEADERS, GatewayContext, GatewayStream } from './gateway-stream';

/** JSON is larger than protobuf (base64 bytes, names): allow this many times the gRPC limit. */
const JSON_BODY_FACTOR = 4;

/** A request handler that answers gateway paths and returns false for any other path. */
export type GatewayHandler = (req: HttpRequest, res: HttpResponse, pathname: string) => boolean;

const serverOf = new WeakMap<object, GrpcServer>();

/**
 * Records that `server` serves the RPCs of `owner` (a member), so that an HTTP handler built
 * from the member alone can find the gateway's target. The service registration does this.
 */
export function recordGatewayServer(owner: object, server: GrpcServer): void {
  serverOf.set(owner, server);
}

/** The server recorded for `owner` with {@link recordGatewayServer}, if any. */
export function gatewayServerOf(owner: object): GrpcServer | undefined {
  return serverOf.get(owner);
}

/** True for paths under the gateway's prefixes (`/v3/`, `/v3beta/`). */
export function isGatewayPath(pathname: string): boolean {
  return pathname.startsWith('/v3/') || pathname.startsWith('/v3beta/');
}

/**
 * The gateway over `server`. Paths under `/v3/` without a method answer 404 and non-POST
 * requests 405, with Go's plain-text bodies as etcd 3.4 does.
 */
export function jsonGateway(server: GrpcServer): GatewayHandler {
  return (req, res, pathname) => {
    if (!isGatewayPath(pathname)) return false;
    const rpc = methodByHttpPath(pathname);
    if (rpc === undefined) return plain(req, res, 404, 'Not Found\n');
    if (req.method !== 'POST') return plain(req, res, 405, 'Method Not Allowed\n');
    void serve(server, rpc, req, res).catch((err) => {
      server.logger.error({ err, path: pathname }, 'json gateway request failed');
      if (!res.headersSent) sendUnaryError(res, GrpcStatusError.from(err));
      else res.end();
    });
    return true;
  };
}

async function serve(server: GrpcServer, rpc: RpcMethod, req: HttpRequest, res: HttpResponse): Promise<void> {
  const ctx = new GatewayContext(rpc.grpcPath, req);
  let requests: Buffer[];
  try {
    const body = await readBody(req, server.maxReceiveMessageBytes * JSON_BODY_FACTOR);
    requests = parseMessages(body).map((json) => requestBytes(rpc, json));
  } catch (err) {
    return sendUnaryError(res, GrpcStatusError.from(err));
  }
  if (rpc.kind === 'unary') return unary(server, rpc, requests[0]!, ctx, res);
  return stream(server, rpc, requests, ctx, res);
}

async function unary(server: GrpcServer, rpc: RpcMethod, request: Buffer, ctx: GatewayContext, res: HttpResponse): Promise<void> {
  let out: Uint8Array;
  try {
    out = await server.invokeUnary(rpc.grpcPath, request, ctx);
  } catch (err) {
    return sendUnaryError(res, GrpcStatusError.from(err));
  }
  const json = JSON.stringify(toGatewayJson(rpc.response, rpc.response.decode(out)));
  const r = res as ServerResponse;
  r.writeHead(200, { ...GATEWAY_HEADERS, 'content-length': String(Buffer.byteLength(json)) });
  r.end(json);
}

/** Runs a server-streaming or bidi handler with the HTTP response as its output. */
async function stream(server: GrpcServer, rpc: RpcMethod, requests: Buffer[], ctx: GatewayContext, res: HttpResponse): Promise<void> {
  const method = server.method(rpc.grpcPath);
  if (method === undefined || method.kind === 'clientStream' || method.kind === 'unary') {
    return sendUnaryError(res, new GrpcStatusError(GrpcStatus.UNIMPLEMENTED, `unknown method ${rpc.name} for service ${rpc.service}`));
  }
  let decoded: unknown[];
  try {
    decoded = requests.map((bytes) => {
      if (bytes.length > server.maxReceiveMessageBytes) {
        throw new GrpcStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${bytes.length} vs. ${server.maxReceiveMessageBytes})`);
      }
      return method.decode(bytes);
    });
  } catch (err) {
    return sendUnaryError(res, GrpcStatusError.from(err));
  }
  const call = new GatewayStream(rpc, method, res, ctx, decoded);
  let settled: Promise<void> | void;
  try {
    settled = method.kind === 'serverStream'
      ? (method.handler as ServerStreamHandler<unknown, unknown>)(decoded[0], call, ctx)
      : (method.handler as BidiHandler<unknown, unknown>)(call, ctx);
  } catch (err) {
    return call.end(GrpcStatusError.from(err));
  }
  // A returned promise ends the call when it settles (the gRPC transport's rule).
  if (settled instanceof Promise) {
    await settled.then(
      () => call.end(),
      (err) => call.end(GrpcStatusError.from(err)),
    );
  }
}

function sendUnaryError(res: HttpResponse, status: GrpcStatusError): void {
  const body = JSON.stringify(unaryErrorBody(status));
  const r = res as ServerResponse;
  r.writeHead(httpStatusOf(status.code), { ...GATEWAY_HEADERS, 'content-length': String(Buffer.byteLength(body)) });
  r.end(body);
}

function plain(req: HttpRequest, res: HttpResponse, status: number, body: string): true {
  // Drain the unread body so the connection stays usable for the client's next request.
  req.resume();
  const r = res as ServerResponse;
  r.writeHead(status, { ...GATEWAY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  r.end(body);
  return true;
}
