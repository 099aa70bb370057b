/**
 * gRPC message framing (PROTOCOL-HTTP2.md "Length-Prefixed-Message"): each message on an HTTP/2
 * stream is a 1-byte compressed flag, a 4-byte big-endian length, then that many bytes. HTTP/2
 * DATA frames carry this byte stream with no alignment: one message may be split over many
 * frames and one frame may hold several messages, so the reader reassembles.
 *
 * Memory bound: a message's length is checked against the receive limit as soon as its 5-byte
 * header is complete, before any of its body is buffered, so a peer can never make us hold more
 * than `maxMessageBytes` (plus the chunk HTTP/2 flow control already admitted) for one stream.
 */

import { GrpcStatus, GrpcStatusError } from './grpc-status';

/** Bytes of the length prefix: flag (1) + big-endian length (4). */
export const FRAME_HEADER_BYTES = 5;

/**
 * Payloads up to this size are copied behind their prefix into one buffer (one write, one DATA
 * frame); larger ones are written as prefix + payload without copying.
 */
const COPY_THRESHOLD_BYTES = 64 * 1024;

/** Receives complete messages from a {@link MessageDeframer}. */
export interface DeframerSink {
  /**
   * One complete message, in order. `message` may be a view into the chunk given to `push`, valid
   * as long as the caller keeps it (chunks are never reused by node:http2). `flag` is the raw
   * compressed-flag byte: 0 or 1. Returns false to stop delivery (the call has ended).
   */
  onFrame(message: Buffer, flag: number): boolean;
}

/**
 * Reassembles length-prefixed messages from a stream of chunks. One per call; after an error or
 * a stop it ignores further input, so a failed call never buffers anything more.
 */
export class MessageDeframer {
  /** The largest message body accepted, in bytes. */
  readonly maxMessageBytes: number;
  /** Header bytes of the current message seen so far (0..5); 0 between messages. */
  private headerFill = 0;
  private flag = 0;
  private length = 0;
  /** The partial body of the current message when it spans chunks; null otherwise. */
  private body: Buffer | null = null;
  private bodyFill = 0;
  private stopped = false;

  constructor(maxMessageBytes: number) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /** True when no message is partly received (a clean place for the peer to end the stream). */
  get idle(): boolean {
    return this.headerFill === 0;
  }

  /** True once an error or the sink stopped delivery. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Ignore all further input. */
  stop(): void {
    this.stopped = true;
    this.body = null;
  }

  /**
   * Feeds one chunk; delivers every message it completes to `sink`. Returns the status to end the
   * call with if the input is invalid (too large, unknown flag), after which the deframer is stopped.
   */
  push(chunk: Buffer, sink: DeframerSink): GrpcStatusError | undefined {
    let pos = 0;
    const end = chunk.length;
    while (!this.stopped) {
      if (this.headerFill < FRAME_HEADER_BYTES) {
        if (pos >= end) break;
        // Fast path: a whole header in this chunk.
        if (this.headerFill === 0 && end - pos >= FRAME_HEADER_BYTES) {
          this.flag = chunk[pos];
          this.length = chunk.readUInt32BE(pos + 1);
          this.headerFill = FRAME_HEADER_BYTES;
          pos += FRAME_HEADER_BYTES;
        } else {
          pos = this.readHeaderByte(chunk, pos);
          if (this.headerFill < FRAME_HEADER_BYTES) continue;
        }
        const err = this.checkHeader();
        if (err !== undefined) return err;
      }
      // A body is due; an empty message completes even at the very end of a chunk.
      if (pos >= end && this.length > 0) break;
      pos = this.readBody(chunk, pos, sink);
    }
    return undefined;
  }

  /** Consumes one header byte (the slow path for headers split across chunks). */
  private readHeaderByte(chunk: Buffer, pos: number): number {
    const byte = chunk[pos];
    if (this.headerFill === 0) {
      this.flag = byte;
      this.length = 0;
    } else {
      // Multiply rather than shift: a 4-byte length may exceed 2^31.
      this.length = this.length * 256 + byte;
    }
    this.headerFill++;
    return pos + 1;
  }

  /** Validates a completed header; on error stops and returns the status. */
  private checkHeader(): GrpcStatusError | undefined {
    if (this.flag > 1) {
      this.stop();
      return new GrpcStatusError(GrpcStatus.INTERNAL, `grpc: received unexpected payload format ${this.flag}`);
    }
    if (this.length > this.maxMessageBytes) {
      this.stop();
      // grpc-go's exact text (rpc_util.go recvMsg); etcd clients surface it verbatim.
      return new GrpcStatusError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${this.length} vs. ${this.maxMessageBytes})`,
      );
    }
    return undefined;
  }

  /** Consumes body bytes of the current message from `pos`; delivers it when complete. */
  private readBody(chunk: Buffer, pos: number, sink: DeframerSink): number {
    const available = chunk.length - pos;
    if (this.body === null) {
      if (available >= this.length) {
        // Whole body in this chunk: deliver a view, no copy.
        const next = pos + this.length;
        this.deliver(chunk.subarray(pos, next), sink);
        return next;
      }
      // Bounded by checkHeader: length <= maxMessageBytes.
      this.body = Buffer.allocUnsafe(this.length);
      this.bodyFill = 0;
    }
    const take = Math.min(available, this.length - this.bodyFill);
    chunk.copy(this.body, this.bodyFill, pos, pos + take);
    this.bodyFill += take;
    if (this.bodyFill === this.length) {
      const message = this.body;
      this.body = null;
      this.deliver(message, sink);
    }
    return pos + take;
  }

  private deliver(message: Buffer, sink: DeframerSink): void {
    this.headerFill = 0;
    if (!sink.onFrame(message, this.flag)) this.stop();
  }
}

/** Writes the 5-byte prefix for an uncompressed message of `length` bytes at `offset`. */
function writePrefix(target: Buffer, offset: number, length: number): void {
  target[offset] = 0;
  target.writeUInt32BE(length, offset + 1);
}

/** One uncompressed message as a single buffer: prefix + a copy of the payload. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writePrefix(out, 0, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** The part of a writable stream {@link writeFrame} uses (an http2 stream in production). */
export interface FrameWritable {
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  cork(): void;
  uncork(): void;
}

/**
 * Writes one uncompressed message to `out` (and ends the writable side if `end`). Small payloads
 * go as one copied buffer; large ones as prefix + payload, corked into one writev, so a
 * multi-megabyte range response is not copied. Returns what `write` returned (false means the
 * stream's buffer is above its high-water mark); true when ending.
 */
export function writeFrame(out: FrameWritable, payload: Uint8Array, end: boolean): boolean {
  if (payload.length <= COPY_THRESHOLD_BYTES) {
    const frame = encodeFrame(payload);
    if (end) {
      out.end(frame);
      return true;
    }
    return out.write(frame);
  }
  const prefix = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writePrefix(prefix, 0, payload.length);
  out.cork();
  out.write(prefix);
  if (end) {
    out.end(payload); // end() uncorks
    return true;
  }
  const ok = out.write(payload);
  out.uncork();
  return ok;
}
