/**
 * etcd's HTTP/JSON gateway encoding of any message (grpc-gateway v1 with
 * `JSONPb{OrigName: true}`, etcd.md §4.5 and §7.24), driven by the generated descriptor tables.
 *
 * Output ({@link toGatewayJson}): keys are the .proto field names (`create_revision`, `TTL`,
 * `peerURLs`); bytes are standard base64; int64/uint64 are decimal strings; int32/uint32 are
 * numbers; enums are value names (an unknown number stays a number); default scalars, empty
 * lists and absent messages are left out, but a set oneof member is always written.
 *
 * Input ({@link fromGatewayJson}): keys may be the .proto name or lowerCamel (`range_end` or
 * `rangeEnd`); integers may be JSON numbers or strings; enums may be names or numbers; bytes
 * may be standard or URL-safe base64, padded or not; `null` means "absent". Anything else
 * (unknown key, wrong JSON type, out-of-range number, two members of one oneof) is a
 * {@link JsonGatewayError}; the gateway answers it as gRPC InvalidArgument.
 */
import { ENUM_TYPES, MESSAGE_TYPES } from './generated/descriptors';
import type { FieldInfo, MessageInfo } from './wire/descriptor-types';
import type { DeepPartial, MessageCodec } from './wire/message-codec';

/** A JSON object as JSON.parse returns it / JSON.stringify accepts it. */
export type JsonObject = { [key: string]: JsonValue };
/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** Bad JSON input for a message; `path` locates the offending value (`compare[0].target`). */
export class JsonGatewayError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(path === '' ? detail : `${path}: ${detail}`);
    this.name = 'JsonGatewayError';
  }
}

/** The gateway JSON object for `message` (see the module comment for the rules). */
export function toGatewayJson<T>(codec: MessageCodec<T>, message: DeepPartial<T>): JsonObject {
  return messageToJson(info(codec.typeName), message as Record<string, unknown>);
}

/** The message a gateway JSON body describes, with defaults for everything it leaves out. */
export function fromGatewayJson<T>(codec: MessageCodec<T>, json: unknown): T {
  return messageFromJson(info(codec.typeName), json, '') as T;
}

function info(typeName: string): MessageInfo {
  const m = MESSAGE_TYPES[typeName];
  if (m === undefined) throw new Error(`no descriptor for ${typeName}`);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Output

function messageToJson(m: MessageInfo, msg: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const f of m.fields) {
    if (f.oneof !== undefined) {
      const o = msg[f.oneof] as { $case: string; [k: string]: unknown } | undefined;
      if (o !== undefined && o.$case === f.jsonName) out[f.name] = valueToJson(f, o[f.jsonName]);
      continue;
    }
    const v = msg[f.jsonName];
    if (v === undefined) continue;
    if (f.repeated) {
      const list = v as readonly unknown[];
      if (list.length !== 0) out[f.name] = list.map((x) => valueToJson(f, x));
    } else if (!isDefault(f, v)) {
      out[f.name] = valueToJson(f, v);
    }
  }
  return out;
}

function isDefault(f: FieldInfo, v: unknown): boolean {
  switch (f.type) {
    case 'message':
      return false;
    case 'string':
    case 'bytes':
      return (v as { length: number }).length === 0;
    default:
      return v === 0 || v === 0n || v === false;
  }
}

function valueToJson(f: FieldInfo, v: unknown): JsonValue {
  switch (f.type) {
    case 'int64':
    case 'uint64':
      return String(v);
    case 'bytes':
      return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString('base64');
    case 'enum':
      return enumName(f.typeName!, v as number) ?? (v as number);
    case 'message':
      return messageToJson(info(f.typeName!), v as Record<string, unknown>);
    default:
      return v as string | number | boolean;
  }
}

// ---------------------------------------------------------------------------------------------
// Input

function messageFromJson(m: MessageInfo, json: unknown, path: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new JsonGatewayError(path, `expected a JSON object for ${m.typeName}`);
  }
  const out = m.codec.create() as Record<string, unknown>;
  const byName = fieldsByName(m);
  const oneofSetBy = new Map<string, string>();
  for (const [key, raw] of Object.entries(json as Record<string, unknown>)) {
    const f = byName.get(key);
    const at = path === '' ? key : `${path}.${key}`;
    if (f === undefined) throw new JsonGatewayError(path, `unknown field "${key}" in ${m.typeName}`);
    if (raw === null) continue;
    if (f.oneof !== undefined) {
      const earlier = oneofSetBy.get(f.oneof);
      if (earlier !== undefined) throw new JsonGatewayError(path, `"${earlier}" and "${key}" are members of the same oneof`);
      oneofSetBy.set(f.oneof, key);
      out[f.oneof] = { $case: f.jsonName, [f.jsonName]: valueFromJson(f, raw, at) };
    } else if (f.repeated) {
      if (!Array.isArray(raw)) throw new JsonGatewayError(at, 'expected a JSON array');
      out[f.jsonName] = raw.map((x, i) => valueFromJson(f, x, `${at}[${i}]`));
    } else {
      out[f.jsonName] = valueFromJson(f, raw, at);
    }
  }
  return out;
}

const INT_RANGES = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
} as const;

function valueFromJson(f: FieldInfo, v: unknown, path: string): unknown {
  switch (f.type) {
    case 'int32':
    case 'uint32':
      return Number(integerFromJson(f.type, v, path));
    case 'int64':
    case 'uint64':
      return integerFromJson(f.type, v, path);
    case 'bool':
      if (typeof v !== 'boolean') throw new JsonGatewayError(path, 'expected true or false');
      return v;
    case 'string':
      if (typeof v !== 'string') throw new JsonGatewayError(path, 'expected a string');
      return v;
    case 'bytes':
      return bytesFromJson(v, path);
    case 'enum':
      return enumFromJson(f.typeName!, v, path);
    case 'message':
      return messageFromJson(info(f.typeName!), v, path);
  }
}

function integerFromJson(type: keyof typeof INT_RANGES, v: unknown, path: string): bigint {
  let n: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) n = BigInt(v);
  else throw new JsonGatewayError(path, `expected an integer (number or decimal string) for ${type}`);
  const [min, max] = INT_RANGES[type];
  if (n < min || n > max) throw new JsonGatewayError(path, `${n} is out of range for ${type}`);
  return n;
}

function bytesFromJson(v: unknown, path: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v) || v.replace(/=+$/, '').length % 4 === 1) {
    throw new JsonGatewayError(path, 'expected base64 bytes');
  }
  return Buffer.from(v, 'base64');
}

function enumFromJson(typeName: string, v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return v;
  if (typeof v === 'string') {
    const n = enumIndex(typeName).byName.get(v);
    if (n !== undefined) return n;
  }
  throw new JsonGatewayError(path, `expected a ${typeName} value name or number`);
}

// ---------------------------------------------------------------------------------------------
// Lookup caches (built on first use per type)

const fieldIndexCache = new Map<string, Map<string, FieldInfo>>();

function fieldsByName(m: MessageInfo): Map<string, FieldInfo> {
  let index = fieldIndexCache.get(m.typeName);
  if (index === undefined) {
    index = new Map();
    for (const f of m.fields) {
      index.set(f.name, f);
      index.set(f.jsonName, f);
    }
    fieldIndexCache.set(m.typeName, index);
  }
  return index;
}

const enumIndexCache = new Map<string, { byName: Map<string, number>; byNumber: Map<number, string> }>();

function enumIndex(typeName: string): { byName: Map<string, number>; byNumber: Map<number, string> } {
  let index = enumIndexCache.get(typeName);
  if (index === undefined) {
    const values = ENUM_TYPES[typeName]?.values ?? [];
    index = { byName: new Map(values), byNumber: new Map() };
    // The first name declared for a number wins (proto3 allow_alias style).
    for (const [name, n] of values) if (!index.byNumber.has(n)) index.byNumber.set(n, name);
    enumIndexCache.set(typeName, index);
  }
  return index;
}

function enumName(typeName: string, n: number): string | undefined {
  return enumIndex(typeName).byNumber.get(n);
}
