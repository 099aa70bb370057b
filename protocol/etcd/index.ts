/**
 * Public surface of the etcd v3 protocol package: the generated message codecs (one namespace
 * per .proto file), the codec contract and its error type, and the descriptor tables.
 *
 * Usage: `import { rpc } from '../protocol/etcd'` then `rpc.PutRequest.encode({ key, value })`
 * (a Buffer) and `rpc.PutRequest.decode(bytes)` (throws {@link ProtoDecodeError}). Deep imports
 * of `protocol/etcd/generated/<file>` work the same way.
 */
export * as auth from './generated/auth';
export * as health from './generated/health';
export * as kv from './generated/kv';
export * as membership from './generated/membership';
export * as raftInternal from './generated/raft-internal';
export * as rpc from './generated/rpc';
export * as v3election from './generated/v3election';
export * as v3lock from './generated/v3lock';
export { ENUM_TYPES, MESSAGE_TYPES, SERVICE_METHODS } from './generated/descriptors';
export { isProtoDecodeError, ProtoDecodeError } from './wire/decode-error';
export type { ProtoDecodeReason } from './wire/decode-error';
export type { EnumInfo, FieldInfo, FieldType, MessageInfo, MethodInfo } from './wire/descriptor-types';
export type { DeepPartial, MessageCodec } from './wire/message-codec';
export { MAX_DECODE_DEPTH } from './wire/proto-reader';
export { fromGatewayJson, JsonGatewayError, toGatewayJson } from './json-gateway';
export type { JsonObject, JsonValue } from './json-gateway';
export { GATEWAY_ROUTES } from './gateway-routes';
export { ETCD_METHODS, methodByGrpcPath, methodByHttpPath } from './service-table';
export type { RpcMethod, StreamingKind } from './service-table';
