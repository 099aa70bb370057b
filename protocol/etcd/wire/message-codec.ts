/**
 * The shape every generated etcd message codec has, and the small helpers the generated code
 * shares. Generated code lives in `protocol/etcd/generated/`; see its header comments.
 */
import { ProtoDecodeError } from './decode-error';
import { ProtoReader } from './proto-reader';
import { ProtoWriter } from './proto-writer';

/**
 * A message in "input" form: every field optional, recursively; `bytes` may be any
 * Uint8Array; arrays may be readonly. A oneof stays a `{ $case, <field> }` union whose member
 * value is required. Encoders accept this form, so callers need not spell out defaults.
 */
export type DeepPartial<T> = T extends Uint8Array
  ? Uint8Array
  : T extends bigint | number | string | boolean | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? ReadonlyArray<DeepPartial<U>>
      : T extends { $case: string }
        ? { [K in keyof T]: K extends '$case' ? T[K] : DeepPartial<T[K]> }
        : T extends object
          ? { [K in keyof T]?: DeepPartial<T[K]> }
          : T;

/**
 * Codec of one message type `T`. Contract of the generated implementations:
 * - 64-bit integer fields are `bigint` (int64 signed, uint64 in [0, 2^64)); `bytes` fields are
 *   `Buffer`; enums are TypeScript numeric enums with etcd's numbers (unknown numbers are kept);
 *   a oneof is `{ $case: '<fieldJsonName>', <fieldJsonName>: value } | undefined`; singular
 *   message fields are `undefined` when absent.
 * - `encode` writes proto3 canonical bytes: fields in number order, default scalars left out
 *   (but a set oneof member is always written), repeated scalars packed. Out-of-range 64-bit
 *   values throw RangeError.
 * - `decode` skips unknown fields and throws {@link ProtoDecodeError} for anything malformed.
 *   `bytes` fields of the result are views into the input (no copy): do not reuse or mutate
 *   the input buffer while the message is in use (copy it first if it is borrowed, e.g. from
 *   an LMDB zero-copy read). A repeated occurrence of a singular message field replaces the
 *   earlier one instead of merging into it.
 */
export interface MessageCodec<T> {
  /** Fully qualified proto name, e.g. `etcdserverpb.PutRequest`. */
  readonly typeName: string;
  /** A message with every field at its default. */
  create(): T;
  /** A full message from a partial one: missing fields take defaults, recursively. */
  fromPartial(partial: DeepPartial<T>): T;
  /** Serializes a (possibly partial) message to a new Buffer. */
  encode(message: DeepPartial<T>): Buffer;
  /** Parses bytes; throws {@link ProtoDecodeError} on malformed input. */
  decode(bytes: Uint8Array): T;
  /** Low level: writes the message body (no tag, no length) backwards into `w`. */
  write(w: ProtoWriter, message: DeepPartial<T>): void;
  /** Low level: reads a message body from `r.pos` up to `end`. */
  read(r: ProtoReader, end: number): T;
}

/** The shared empty `bytes` value (never mutate it). */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** A Buffer view of `bytes` (no copy); `bytes` itself if it is already a Buffer. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encodes one top-level message with the shared writer. */
export function encodeMessage<T>(write: (w: ProtoWriter, m: T) => void, message: T): Buffer {
  const w = ProtoWriter.shared();
  write(w, message);
  return w.finish();
}

/**
 * Decodes one top-level message. Every failure becomes a {@link ProtoDecodeError} naming the
 * type; a stack overflow (which the depth bound should prevent) is reported the same way.
 */
export function decodeMessage<T>(bytes: Uint8Array, read: (r: ProtoReader, end: number) => T, typeName: string): T {
  let failure: ProtoDecodeError;
  if (bytes instanceof Uint8Array) {
    const r = new ProtoReader(bytes);
    try {
      return read(r, r.buf.length);
    } catch (err) {
      if (err instanceof ProtoDecodeError) failure = err;
      else if (err instanceof RangeError) failure = new ProtoDecodeError('too-deep', err.message, r.pos);
      else throw err;
    }
  } else {
    failure = new ProtoDecodeError('not-bytes', 'input is not a byte array', 0);
  }
  failure.typeName = typeName;
  failure.message = `${typeName}: ${failure.message}`;
  throw failure;
}
