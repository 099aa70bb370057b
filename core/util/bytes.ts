/**
 * Byte-string helpers shared by the store and the protocols. Keys are ordered bytewise, as etcd
 * and LMDB order them.
 *
 * Inside the in-memory index keys are held as latin1 strings: each byte becomes one UTF-16 code
 * unit in 0..255, so JavaScript's native string comparison is exactly bytewise comparison and
 * strings can key a `Map`. Convert only at the edges with {@link keyString} / {@link keyBytes}.
 */
import { ByteAlloc } from './byte-alloc';

/**
 * A {@link ByteAlloc} for Node-side codecs: a Buffer from Node's shared pool when small,
 * uninitialised (the caller overwrites every byte). See byte-alloc.ts.
 */
export const pooledBytes: ByteAlloc = (n) => Buffer.allocUnsafe(n);

/**
 * A {@link ByteAlloc} for bytes that live long and die in the order they were made: Raft log
 * entries (kept until a snapshot compacts the log). Node's shared pool would mix them with
 * short-lived buffers, and each would pin a whole 8 KiB pool slab for its life (measured: 2.7 KB
 * of native memory per znode instead of 1.9); a plain Uint8Array each costs an ArrayBuffer
 * (≈ 1 µs). So they get slabs of their own, filled front to back; a slab is freed once every
 * entry cut from it is gone, which log compaction makes happen together.
 */
export const logEntryBytes: ByteAlloc = (() => {
  const SLAB = 64 * 1024;
  let slab = new ArrayBuffer(0);
  let used = 0;
  return (n: number): Uint8Array => {
    if (n > SLAB / 8) return Buffer.allocUnsafeSlow(n);
    if (used + n > slab.byteLength) {
      slab = new ArrayBuffer(SLAB);
      used = 0;
    }
    const out = Buffer.from(slab, used, n);
    used += n;
    return out;
  };
})();

/** The empty byte string. */
export const EMPTY = Buffer.alloc(0);

/** A key as a latin1 string (one char per byte), ordered like the bytes. */
export type KeyString = string;

/** Bytes to the index's string form. */
export function keyString(bytes: Uint8Array): KeyString {
  // Most keys already are Buffers: no view object per conversion (this runs several times per write).
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** The index's string form back to bytes. */
export function keyBytes(key: KeyString): Buffer {
  return Buffer.from(key, 'latin1');
}

/** Bytewise comparison: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * The smallest key greater than every key with `prefix` as a prefix: the last byte that is not
 * 0xff is incremented and everything after it dropped (`aa`→`ab`, `a\xff`→`b`). An all-0xff or
 * empty prefix has no such key; etcd then uses `\0`, meaning "to the end" (etcd.md §2.2).
 */
export function prefixEnd(prefix: Uint8Array): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = end[i]! + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** The same as {@link prefixEnd}, over latin1 key strings. */
export function prefixEndString(prefix: KeyString): KeyString {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c !== 0xff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return '\0';
}

/** True when both byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** A Buffer view over the same memory as `u` (no copy), for APIs typed with Buffer. */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
