/**
 * How codecs allocate the byte arrays they hand out. Pure code (core/raft) allocates plain
 * Uint8Arrays by default; Node-side callers pass one of bytes.ts: every `new Uint8Array` or
 * `.slice()` gets its own ArrayBuffer with an off-heap backing store (≈ 1 µs, and work for the
 * GC), while `pooledBytes` carves small arrays out of Node's shared 8 KiB pool (≈ 0.15 µs).
 * A pooled array pins its whole slab while it lives, so it suits short-lived results (a WAL
 * record, a peer frame, a decoded request); bytes kept long (Raft log entries) take
 * `logEntryBytes`, slabs of their own.
 */

/** Returns a new array of `n` bytes whose contents the caller will overwrite completely. */
export type ByteAlloc = (n: number) => Uint8Array;

/** A fresh Uint8Array (pure: no Node APIs). */
export const plainBytes: ByteAlloc = (n) => new Uint8Array(n);
