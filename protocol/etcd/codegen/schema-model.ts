/**
 * The generator's view of the .proto files: protoc's FileDescriptorSet (with source info)
 * reduced to what the emitters need, with TypeScript names resolved and comments attached.
 *
 * Naming (kept compatible with ts-proto's conventions): a nested type is `Outer_Inner`; a field's
 * TypeScript property is protoc's json_name (`create_revision` → `createRevision`, `ID` and
 * `peerURLs` unchanged); a oneof's property is its name in lowerCamel (`target_union` →
 * `targetUnion`). Dev-time only: nothing at run time imports this module.
 */
import { createFileRegistry, fromBinary, ScalarType } from '@bufbuild/protobuf';
import type { DescEnum, DescField, DescFile, DescMessage, DescService } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import type { FieldType } from '../wire/descriptor-types';

/** One field of a message. */
export interface FieldModel {
  /** Name as written in the .proto (`create_revision`). */
  readonly name: string;
  /** protoc's lowerCamel json_name; also the TypeScript property name. */
  readonly jsonName: string;
  readonly number: number;
  readonly type: FieldType;
  /** Fully qualified enum or message type (`mvccpb.KeyValue`), for `enum` and `message`. */
  readonly typeName?: string;
  readonly repeated: boolean;
  /** Repeated scalar/enum encoded packed (proto3 default). */
  readonly packed: boolean;
  /** TypeScript property name of the oneof this field belongs to, if any. */
  readonly oneof?: string;
  readonly comment: string;
}

/** A oneof: one TypeScript property holding a `{ $case, <field> }` union. */
export interface OneofModel {
  readonly name: string;
  readonly tsName: string;
  readonly fields: readonly FieldModel[];
  readonly comment: string;
}

/** One message type (nested types are listed as separate models). */
export interface MessageModel {
  /** Fully qualified proto name, e.g. `etcdserverpb.RangeRequest`. */
  readonly typeName: string;
  /** TypeScript identifier, e.g. `RangeRequest`, `Compare_CompareResult`. */
  readonly tsName: string;
  /** Fields in declaration order. */
  readonly fields: readonly FieldModel[];
  readonly oneofs: readonly OneofModel[];
  readonly comment: string;
}

/** One enum type and its values in declaration order. */
export interface EnumModel {
  readonly typeName: string;
  readonly tsName: string;
  readonly values: readonly { readonly name: string; readonly number: number; readonly comment: string }[];
  readonly comment: string;
}

/** One RPC of a service. */
export interface MethodModel {
  readonly name: string;
  /** gRPC path: `/etcdserverpb.KV/Range`. */
  readonly path: string;
  readonly requestType: string;
  readonly responseType: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly comment: string;
}

/** One service and its RPCs. */
export interface ServiceModel {
  /** `etcdserverpb.KV`. */
  readonly typeName: string;
  /** TypeScript identifier of the generated method table: `KVService`. */
  readonly tsName: string;
  readonly methods: readonly MethodModel[];
  readonly comment: string;
}

/** One .proto file: everything declared in it, in declaration order. */
export interface FileModel {
  /** `rpc.proto`. */
  readonly protoName: string;
  /** Generated module name, kebab-case: `rpc`, `raft-internal`. */
  readonly moduleName: string;
  readonly packageName: string;
  readonly messages: readonly MessageModel[];
  readonly enums: readonly EnumModel[];
  readonly services: readonly ServiceModel[];
  readonly comment: string;
}

/** Where a type is declared, for imports across generated modules. */
export interface TypeLocation {
  readonly moduleName: string;
  readonly tsName: string;
  readonly kind: 'message' | 'enum';
}

/** All files plus the index from fully qualified type name to its declaration. */
export interface SchemaModel {
  readonly files: readonly FileModel[];
  readonly types: ReadonlyMap<string, TypeLocation>;
}

const SCALARS: Partial<Record<ScalarType, FieldType>> = {
  [ScalarType.INT32]: 'int32',
  [ScalarType.INT64]: 'int64',
  [ScalarType.UINT32]: 'uint32',
  [ScalarType.UINT64]: 'uint64',
  [ScalarType.BOOL]: 'bool',
  [ScalarType.STRING]: 'string',
  [ScalarType.BYTES]: 'bytes',
};

/** Builds the model from a serialized FileDescriptorSet (`protoc --include_source_info`). */
export function loadSchema(descriptorSet: Uint8Array): SchemaModel {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const files: FileModel[] = [];
  const types = new Map<string, TypeLocation>();
  for (const file of registry.files) {
    const model = fileModel(file);
    files.push(model);
    for (const m of model.messages) types.set(m.typeName, { moduleName: model.moduleName, tsName: m.tsName, kind: 'message' });
    for (const e of model.enums) types.set(e.typeName, { moduleName: model.moduleName, tsName: e.tsName, kind: 'enum' });
  }
  return { files, types };
}

function fileModel(file: DescFile): FileModel {
  const comments = commentIndex(file);
  const messages: MessageModel[] = [];
  const enums: EnumModel[] = [];
  file.enums.forEach((e, i) => enums.push(enumModel(e, [5, i], comments)));
  const visit = (m: DescMessage, path: number[]): void => {
    messages.push(messageModel(m, path, comments));
    m.nestedEnums.forEach((e, i) => enums.push(enumModel(e, [...path, 4, i], comments)));
    m.nestedMessages.forEach((n, i) => visit(n, [...path, 3, i]));
  };
  file.messages.forEach((m, i) => visit(m, [4, i]));
  const protoName = file.proto.name;
  return {
    protoName,
    moduleName: protoName.replace(/\.proto$/, '').replace(/_/g, '-'),
    packageName: file.proto.package,
    messages,
    enums,
    services: file.services.map((s, i) => serviceModel(s, [6, i], comments)),
    comment: comments.get('12') ?? '',
  };
}

function tsNameOf(desc: DescMessage | DescEnum): string {
  const pkg = desc.file.proto.package;
  const local = pkg === '' ? desc.typeName : desc.typeName.slice(pkg.length + 1);
  return local.replace(/\./g, '_');
}

function lowerCamel(name: string): string {
  return name.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

function messageModel(m: DescMessage, path: number[], comments: Map<string, string>): MessageModel {
  if (m.nestedMessages.some((n) => n.proto.options?.mapEntry === true)) {
    throw new Error(`${m.typeName}: map fields are not supported`);
  }
  const fields = m.fields.map((f, i) => fieldModel(f, comments.get([...path, 2, i].join(',')) ?? ''));
  const oneofs = m.oneofs.map((o, i): OneofModel => {
    const tsName = lowerCamel(o.name);
    return {
      name: o.name,
      tsName,
      fields: fields.filter((f) => f.oneof === tsName),
      comment: comments.get([...path, 8, i].join(',')) ?? '',
    };
  });
  return { typeName: m.typeName, tsName: tsNameOf(m), fields, oneofs, comment: comments.get(path.join(',')) ?? '' };
}

function fieldModel(f: DescField, comment: string): FieldModel {
  const base = { name: f.name, jsonName: f.jsonName, number: f.number, comment };
  switch (f.fieldKind) {
    case 'scalar':
      return { ...base, type: scalarType(f), repeated: false, packed: false, ...oneofOf(f) };
    case 'enum':
      return { ...base, type: 'enum', typeName: f.enum.typeName, repeated: false, packed: false, ...oneofOf(f) };
    case 'message':
      return { ...base, type: 'message', typeName: f.message.typeName, repeated: false, packed: false, ...oneofOf(f) };
    case 'list':
      if (f.listKind === 'message') {
        return { ...base, type: 'message', typeName: f.message.typeName, repeated: true, packed: false };
      }
      if (f.listKind === 'enum') {
        return { ...base, type: 'enum', typeName: f.enum.typeName, repeated: true, packed: f.packed };
      }
      return { ...base, type: scalarType(f), repeated: true, packed: f.packed };
    default:
      throw new Error(`${f.parent.typeName}.${f.name}: map fields are not supported`);
  }
}

function oneofOf(f: DescField): { oneof?: string } {
  if (f.fieldKind === 'list' || f.fieldKind === 'map' || f.oneof === undefined) return {};
  if (f.proto.proto3Optional) throw new Error(`${f.parent.typeName}.${f.name}: proto3 optional is not supported`);
  return { oneof: lowerCamel(f.oneof.name) };
}

function scalarType(f: DescField): FieldType {
  const t = f.scalar === undefined ? undefined : SCALARS[f.scalar];
  if (t === undefined) throw new Error(`${f.parent.typeName}.${f.name}: scalar type ${String(f.scalar)} is not supported`);
  return t;
}

function enumModel(e: DescEnum, path: number[], comments: Map<string, string>): EnumModel {
  return {
    typeName: e.typeName,
    tsName: tsNameOf(e),
    values: e.values.map((v, i) => ({ name: v.name, number: v.number, comment: comments.get([...path, 2, i].join(',')) ?? '' })),
    comment: comments.get(path.join(',')) ?? '',
  };
}

function serviceModel(s: DescService, path: number[], comments: Map<string, string>): ServiceModel {
  return {
    typeName: s.typeName,
    tsName: `${s.name}Service`,
    methods: s.methods.map((m, i) => ({
      name: m.name,
      path: `/${s.typeName}/${m.name}`,
      requestType: m.input.typeName,
      responseType: m.output.typeName,
      requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
      responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming',
      comment: comments.get([...path, 2, i].join(',')) ?? '',
    })),
    comment: comments.get(path.join(',')) ?? '',
  };
}

/** Leading comments by source path (`4,0,2,1` = message 0, field 1). */
function commentIndex(file: DescFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const loc of file.proto.sourceCodeInfo?.location ?? []) {
    const text = (loc.leadingComments ?? '').trim();
    if (text !== '') out.set(loc.path.join(','), text.split('\n').map((l) => l.replace(/^ /, '')).join('\n'));
  }
  return out;
}
