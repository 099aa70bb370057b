/**
 * The Maintenance Snapshot stream in etcd's framing (etcd.md §2.9, etcd `v3rpc/maintenance.go`):
 * a consistent copy of the backend sent in 32 KiB blobs with `remaining_bytes` counting down to
 * 0, then one last message whose blob is the SHA-256 of everything sent before it.
 *
 * The bytes are our LMDB file instead of a bbolt file. etcdctl (3.4 `snapshot restore`, and the
 * 3.5 client's save) detects the checksum trailer by `size % 512 == 32`; bbolt files are page
 * aligned, an LMDB copy may not be, so the payload is zero-padded to a multiple of 512 bytes
 * (the padding is part of what the checksum covers, as a reader hashes all bytes before the
 * trailer). Zero bytes past LMDB's last page are ignored by LMDB.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as pb from '../../../protocol/etcd/generated/rpc';
import { Backend } from '../../storage/backend';
import type { CallContext, ServerStreamWriter } from '../grpc/grpc-method';

/** Blob bytes per message (etcd sends 32 KiB). */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;
/** The payload is padded to a multiple of this so that payload + 32-byte trailer is ≡ 32 mod 512. */
export const SNAPSHOT_ALIGN_BYTES = 512;

/** `size` rounded up to a multiple of {@link SNAPSHOT_ALIGN_BYTES}. */
export function paddedSnapshotSize(size: number): number {
  return Math.ceil(size / SNAPSHOT_ALIGN_BYTES) * SNAPSHOT_ALIGN_BYTES;
}

/**
 * Copies `backend` into a scratch directory under `scratchParent`, streams it to `out` and
 * removes the copy. Stops early (without error) when the call is cancelled. Waits for
 * {@link ServerStreamWriter.drain} whenever the client is slower than the disk, so at most
 * a few chunks are buffered however big the database is.
 */
export async function sendSnapshot(backend: Backend, scratchParent: string, out: ServerStreamWriter<pb.SnapshotResponse>, ctx: CallContext): Promise<void> {
  const scratch = mkdtempSync(join(scratchParent, 'snapshot-'));
  try {
    const file = join(scratch, 'db');
    await backend.copyTo(file);
    await streamFile(file, out, ctx);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Streams one file, padded, then the SHA-256 trailer. */
async function streamFile(file: string, out: ServerStreamWriter<pb.SnapshotResponse>, ctx: CallContext): Promise<void> {
  const fd = await open(file, 'r');
  try {
    const size = (await fd.stat()).size;
    const total = paddedSnapshotSize(size);
    const sha = createHash('sha256');
    let sent = 0;
    while (sent < total) {
      if (ctx.cancelled || out.ended) return;
      const blob = Buffer.alloc(Math.min(SNAPSHOT_CHUNK_BYTES, total - sent)); // zeroed: the padding
      if (sent < size) await readFully(fd, blob, Math.min(blob.length, size - sent), sent);
      sent += blob.length;
      sha.update(blob);
      if (!out.write({ remainingBytes: BigInt(total - sent), blob })) await out.drain();
    }
    out.write({ remainingBytes: 0n, blob: sha.digest() });
  } finally {
    await fd.close();
  }
}

/** Reads exactly `length` bytes at `position` into the start of `buf` (a read may return fewer). */
async function readFully(fd: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fd.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`snapshot copy shrank while streaming (${position + done} bytes)`);
    done += bytesRead;
  }
}
