/**
 * Types of the descriptor tables the generator emits (`generated/descriptors.ts`): enough of
 * the schema to drive reflection-style code such as the JSON gateway without hand-written
 * per-message code.
 */
import type { MessageCodec } from './message-codec';

/** Wire/value kind of a field. Scalars map to TS as: 64-bit → bigint, 32-bit → number. */
export type FieldType = 'int32' | 'int64' | 'uint32' | 'uint64' | 'bool' | 'string' | 'bytes' | 'enum' | 'message';

/** One field of a message. */
export interface FieldInfo {
  /** Name as written in the .proto: the JSON gateway's output name (`create_revision`). */
  readonly name: string;
  /** lowerCamel name (`createRevision`): the TypeScript property, also accepted on JSON input. */
  readonly jsonName: string;
  readonly number: number;
  readonly type: FieldType;
  /** Fully qualified enum or message type name for `enum` / `message`. */
  readonly typeName?: string;
  readonly repeated: boolean;
  /** TypeScript property of the enclosing oneof, if the field is a oneof member. */
  readonly oneof?: string;
}

/** One message type. */
export interface MessageInfo {
  readonly typeName: string;
  /** Fields in declaration order. */
  readonly fields: readonly FieldInfo[];
  // Method-syntax codec typing keeps MessageCodec<T> assignable here for every T.
  readonly codec: MessageCodec<unknown>;
}

/** One enum type. */
export interface EnumInfo {
  readonly typeName: string;
  /** Values in declaration order: [name, number]. */
  readonly values: readonly (readonly [string, number])[];
}

/** One RPC. */
export interface MethodInfo<Req = unknown, Res = unknown> {
  /** `Range`. */
  readonly name: string;
  /** `etcdserverpb.KV`. */
  readonly service: string;
  /** gRPC path: `/etcdserverpb.KV/Range`. */
  readonly path: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
}
