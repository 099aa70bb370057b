/**
 * The JSON gateway's request side: read a bounded HTTP body, split it into JSON messages, and
 * turn each into the protobuf bytes the gRPC method decodes (so limits and decoders are exactly
 * those of a gRPC call).
 *
 * grpc-gateway v1 with etcd's marshaler ignores fields it does not know and reads an empty body
 * as an empty message (checked against etcd 3.4.23), so unknown keys are dropped before the
 * strict {@link fromGatewayJson}; everything else it rejects (wrong types, bad base64) stays an
 * InvalidArgument error.
 */
import type { HttpRequest } from '../grpc/client-listener';
import { GrpcStatus, GrpcStatusError } from '../grpc/grpc-status';
import { fromGatewayJson, JsonGatewayError, MESSAGE_TYPES, type RpcMethod } from '../../../protocol/etcd';

/** Reads the whole body; rejects with RESOURCE_EXHAUSTED beyond `maxBytes`. */
export function readBody(req: HttpRequest, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new GrpcStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `request body larger than max (${size} vs. ${maxBytes})`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The JSON messages of a body: none-but-empty for an empty body (one empty message), else one
 * JSON value per non-blank line, or the whole body as one value when it spans lines.
 */
export function parseMessages(body: Buffer): unknown[] {
  const text = body.toString('utf8');
  if (text.trim() === '') return [{}];
  try {
    return [JSON.parse(text)];
  } catch (whole) {
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length < 2) throw invalid(whole);
    try {
      return lines.map((l) => JSON.parse(l) as unknown);
    } catch (err) {
      throw invalid(err);
    }
  }
}

/** One JSON message of `method` as request bytes; InvalidArgument for a malformed message. */
export function requestBytes(method: RpcMethod, json: unknown): Buffer {
  try {
    const message = fromGatewayJson(method.request, withoutUnknownFields(method.requestType, json));
    return Buffer.from(method.request.encode(message));
  } catch (err) {
    if (err instanceof JsonGatewayError) throw invalid(err);
    throw err;
  }
}

function invalid(err: unknown): GrpcStatusError {
  return new GrpcStatusError(GrpcStatus.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
}

/** A copy of `json` with the keys that no field of `typeName` (or nested types) accepts removed. */
function withoutUnknownFields(typeName: string, json: unknown): unknown {
  const info = MESSAGE_TYPES[typeName];
  if (info === undefined || typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = info.fields.find((f) => f.name === key || f.jsonName === key);
    if (field === undefined) continue;
    if (field.type !== 'message' || field.typeName === undefined) out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map((v) => withoutUnknownFields(field.typeName!, v));
    else out[key] = withoutUnknownFields(field.typeName, value);
  }
  return out;
}
