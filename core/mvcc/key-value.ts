/**
 * The MVCC key-value record: the domain form of etcd's `mvccpb.KeyValue`, and its on-disk
 * encoding in the `kv` sub-database (keyed by revision, see schema.ts).
 *
 * Record layout (all big-endian): flags u8 (bit 0 = tombstone) · key length u32 · key ·
 * create revision u48 · version u48 · lease i64 · value (the rest). The mod revision is the
 * record's own revision key, so it is not stored twice.
 */
import { assert } from '../util/assert';
import { KeyString } from '../util/bytes';

/** A key's state at one revision (etcd semantics, reference etcd.md §2.1). */
export interface KeyValue {
  key: Buffer;
  /** Revision of the latest creation of the key. */
  createRevision: number;
  /** Revision of the last change. */
  modRevision: number;
  /** 1 on creation, +1 per put. */
  version: number;
  value: Buffer;
  /** Attached lease id, 0n for none. */
  lease: bigint;
}

/** A decoded record: a key-value, or a tombstone marking the key's deletion. */
export interface KvRecord {
  tombstone: boolean;
  kv: KeyValue;
}

const HEADER = 1 + 4;
const TAIL_FIXED = 6 + 6 + 8;

/** Encodes a put record. */
export function encodePutRecord(key: Buffer, createRevision: number, version: number, lease: bigint, value: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + key.length + TAIL_FIXED + value.length);
  let o = 0;
  buf[o++] = 0;
  buf.writeUInt32BE(key.length, o);
  o += 4;
  o += key.copy(buf, o);
  buf.writeUIntBE(createRevision, o, 6);
  buf.writeUIntBE(version, o + 6, 6);
  buf.writeBigInt64BE(lease, o + 12);
  o += TAIL_FIXED;
  value.copy(buf, o);
  return buf;
}

/** Encodes a tombstone record (the key's deletion). */
export function encodeTombstoneRecord(key: Buffer): Buffer {
  const buf = Buffer.alloc(HEADER + key.length + TAIL_FIXED);
  buf[0] = 1;
  buf.writeUInt32BE(key.length, 1);
  key.copy(buf, HEADER);
  return buf;
}

/** Where a record's key ends (the metadata follows), after checking the record holds both. */
function keyEndOf(buf: Buffer): number {
  assert(buf.length >= HEADER + TAIL_FIXED, 'kv record too short');
  const keyEnd = HEADER + buf.readUInt32BE(1);
  assert(buf.length >= keyEnd + TAIL_FIXED, 'kv record key overruns');
  return keyEnd;
}

/** The lease at `at`; most keys carry none, and then no bigint (a heap object) is made. */
function readLease(buf: Buffer, at: number): bigint {
  return buf.readUInt32BE(at) === 0 && buf.readUInt32BE(at + 4) === 0 ? 0n : buf.readBigInt64BE(at);
}

/**
 * Decodes a record stored at revision `modRevision`. The key and value are views of `buf`, which
 * reads hand over for keeps (backend.ts): a copy of each was two allocations per key read. What
 * keeps values for long decodes them (the ZooKeeper tree keeps data as strings), so a view
 * holding its record's few extra bytes does not last (live heap after loading 200k znodes: the
 * same with views as with copies).
 */
export function decodeRecord(buf: Buffer, modRevision: number, keysOnly = false): KvRecord {
  const keyEnd = keyEndOf(buf);
  return {
    tombstone: (buf[0]! & 1) === 1,
    kv: {
      key: buf.subarray(HEADER, keyEnd),
      createRevision: buf.readUIntBE(keyEnd, 6),
      modRevision,
      version: buf.readUIntBE(keyEnd + 6, 6),
      value: keysOnly ? EMPTY_VALUE : buf.subarray(keyEnd + TAIL_FIXED),
      lease: readLease(buf, keyEnd + 12),
    },
  };
}

/** What the key index needs of a record: no copy of the key, no value (see {@link decodeRecordHead}). */
export interface RecordHead {
  tombstone: boolean;
  /** The key as a latin1 string (core/util/bytes.ts). */
  key: KeyString;
  createRevision: number;
  version: number;
  lease: bigint;
}

/**
 * Decodes a record's key (straight to its latin1 string) and metadata, not its value: the key
 * index is rebuilt from every record at start, so this runs once per revision in the store.
 */
export function decodeRecordHead(buf: Buffer): RecordHead {
  const keyEnd = keyEndOf(buf);
  return {
    tombstone: (buf[0]! & 1) === 1,
    key: buf.toString('latin1', HEADER, keyEnd),
    createRevision: buf.readUIntBE(keyEnd, 6),
    version: buf.readUIntBE(keyEnd + 6, 6),
    lease: readLease(buf, keyEnd + 12),
  };
}

/** Reads only the key of a record (for history scans that filter by key first). */
export function recordKey(buf: Buffer): Buffer {
  const keyLen = buf.readUInt32BE(1);
  return buf.subarray(HEADER, HEADER + keyLen);
}

/** True when the record is a tombstone. */
export function recordIsTombstone(buf: Buffer): boolean {
  return (buf[0]! & 1) === 1;
}

const EMPTY_VALUE = Buffer.alloc(0);
