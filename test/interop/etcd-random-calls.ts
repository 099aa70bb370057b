/**
 * How the random differential test (etcd-random-diff.test.ts) sends a request: over gRPC with our
 * generated codecs, or as JSON to the HTTP gateway; both never reject, so a failure is an outcome
 * to compare like any other.
 */
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import type { MessageCodec } from '../../protocol/etcd/wire/message-codec';

/** One gRPC call a step makes: the method path, the request and the codecs. */
export interface Call {
  method: string;
  request: unknown;
  reqCodec: MessageCodec<unknown>;
  resCodec: MessageCodec<unknown>;
}

/** A {@link Call} of `method` with its request and codecs. */
export const codecs = <Req, Res>(method: string, request: Req, req: MessageCodec<Req>, res: MessageCodec<Res>): Call =>
  ({ method, request, reqCodec: req as MessageCodec<unknown>, resCodec: res as MessageCodec<unknown> });

/** A call's outcome: the decoded response, or the gRPC status code and message. */
export type Outcome = { ok: unknown } | { code: number; details: string };

/** Makes `call` on `client` (bounded by a 10 s deadline); never rejects. */
export function invoke(client: grpc.Client, call: Call): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      call.method,
      (m: unknown) => Buffer.from(call.reqCodec.encode(m as Parameters<typeof call.reqCodec.encode>[0])),
      (b: Buffer) => call.resCodec.decode(b),
      call.request,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) => resolve(err ? { code: err.code, details: err.details } : { ok: res }),
    );
  });
}

/** The gateway path of each gRPC method the programs call (etcd 3.4's `/v3/` routes). */
const GATEWAY_PATHS: Record<string, string> = {
  '/etcdserverpb.KV/Put': '/v3/kv/put',
  '/etcdserverpb.KV/Range': '/v3/kv/range',
  '/etcdserverpb.KV/DeleteRange': '/v3/kv/deleterange',
  '/etcdserverpb.KV/Txn': '/v3/kv/txn',
  '/etcdserverpb.KV/Compact': '/v3/kv/compaction',
  '/etcdserverpb.Lease/LeaseGrant': '/v3/lease/grant',
  '/etcdserverpb.Lease/LeaseRevoke': '/v3/lease/revoke',
};

/**
 * A request in the JSON grpc-gateway reads: bytes as base64, 64-bit integers as strings, a oneof
 * as its chosen field on the enclosing object, field names in lowerCamelCase (as the generated
 * types have them), enums as numbers.
 */
function gatewayJson(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(gatewayJson);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(v)) {
    if (f !== null && typeof f === 'object' && '$case' in f) {
      const c = (f as { $case: string }).$case;
      out[c] = gatewayJson((f as Record<string, unknown>)[c]);
    } else if (f !== undefined) out[k] = gatewayJson(f);
  }
  return out;
}

/** A gateway answer: the HTTP status and the parsed body (or the raw text when it is not JSON). */
export interface GatewayOutcome {
  status: number;
  body: unknown;
}

/** POSTs `call` as JSON to the gateway on 127.0.0.1:`port` (bounded by 10 s); never rejects. */
export function invokeGateway(port: number, call: Call): Promise<GatewayOutcome> {
  const body = JSON.stringify(gatewayJson(call.request));
  return new Promise((resolve) => {
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: GATEWAY_PATHS[call.method], timeout: 10_000, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Not JSON: compared as text.
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: `request failed: ${err.message}` }));
    req.end(body);
  });
}
