/**
 * Framing of raft messages on a peer stream: a 4-byte big-endian length, then one message
 * encoded with `core/raft/codec`. A frame longer than {@link MAX_PEER_FRAME_BYTES} means the
 * peer is broken or hostile: the decoder reports it and the stream is dropped (never an
 * unbounded buffer).
 */
import { decodeMessage, encodeMessage } from '../raft/codec';
import { logEntryBytes, pooledBytes } from '../util/bytes';
import { Message } from '../raft/types';

/**
 * Bound of one frame. An append carries at most MaxSizePerMsg (1 MiB) of entries but always at
 * least one entry, and an entry may be a whole request (--max-request-bytes, 1.5 MiB by
 * default, configurable): 64 MiB leaves room for both without letting a bad length pin memory.
 */
export const MAX_PEER_FRAME_BYTES = 64 * 1024 * 1024;

/** One message as a frame. */
export function encodeFrame(m: Message): Buffer {
  const body = encodeMessage(m, pooledBytes);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** Thrown for a frame over the bound. */
export class FrameTooLargeError extends Error {}

/** Reassembles frames from stream chunks. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds a chunk and returns the messages it completed. Throws on an oversized frame or a bad message. */
  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Message[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len > MAX_PEER_FRAME_BYTES) throw new FrameTooLargeError(`peer frame of ${len} bytes exceeds ${MAX_PEER_FRAME_BYTES}`);
      if (this.buffered < 4 + len) break;
      const frame = this.take(4 + len);
      // Appended entries stay in Raft's log: log-entry slabs, not Node's pool (bytes.ts).
      out.push(decodeMessage(frame.subarray(4), logEntryBytes));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return frame;
  }
}
