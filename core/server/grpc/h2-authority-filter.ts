/**
 * A filter on the client→server bytes of one cleartext HTTP/2 connection that rewrites
 * `:authority` values of the form `http://host:port[/…]` to `host:port` (see h2-authority.ts
 * for why) before node:http2 parses them. Everything else passes unchanged.
 *
 * How, and why it stays correct:
 * - The preface and every frame other than HEADERS/CONTINUATION pass through as they arrive.
 *   A HEADERS frame and its CONTINUATIONs are held until END_HEADERS, then their header block
 *   is decoded by an {@link HpackDecoder} that mirrors the client's encoder.
 * - "Mirror" mode (the start, and for almost every connection the whole life): while no block
 *   ever needed a rewrite, the original octets are forwarded, so node's decoder sees exactly
 *   what the client sent and its dynamic table stays the client's.
 * - "Rewrite" mode, from the first block whose authority we reduce: every block from then on
 *   is re-encoded as literals that never touch the dynamic table (hpack-encoder.ts), so node's
 *   table stays frozen as it was and every block still decodes to what the client meant. The
 *   frames are rebuilt without padding and split at node's SETTINGS_MAX_FRAME_SIZE.
 * - Anything we cannot follow (a decoding error, a frame the protocol forbids here, a block
 *   over our bounds) in mirror mode: we forward the octets untouched and stop filtering
 *   ("transparent"), leaving the judgement to node exactly as without the filter. In rewrite
 *   mode node's decoder no longer matches the client's, so the connection is failed instead.
 *
 * The server→client direction needs nothing: it is a separate HPACK context.
 */

import {
  H2_DEFAULT_MAX_FRAME_SIZE,
  H2_FRAME_HEADER_BYTES,
  H2_PRIORITY_BYTES,
  H2Flag,
  type H2FrameHeader,
  H2FrameType,
  readFrameHeader,
  writeFrameHeader,
} from './h2-frame';
import { normalizeAuthority } from './h2-authority';
import { HpackDecoder } from './hpack-decoder';
import { encodeLiteralHeaderBlock } from './hpack-encoder';
import { HpackError } from './hpack-error';
import type { HpackField } from './hpack-field';
import { HPACK_STATIC_TABLE } from './hpack-static-table';
import { HTTP2_PREFACE } from './protocol-sniffer';

/** Where the filter's output goes. */
export interface H2AuthorityFilterSink {
  /** Octets for the server, in order. */
  data(chunk: Buffer): void;
  /** The connection must be closed: the input cannot be followed after a rewrite. Called once. */
  fail(reason: string): void;
}

/** Options of an {@link H2AuthorityFilter}; defaults match node:http2's server defaults. */
export interface H2AuthorityFilterOptions {
  /** The server's SETTINGS_MAX_FRAME_SIZE: no rewritten frame payload exceeds it (16384). */
  maxFrameSize?: number;
  /** The server's SETTINGS_HEADER_TABLE_SIZE, the client encoder's table limit (4096). */
  maxTableSize?: number;
  /** Bound on one held header block, frame headers and padding included (256 KiB). */
  maxHeaderBlockBytes?: number;
  /** Bound on one decoded header list, §4.1 measure (256 KiB). */
  maxHeaderListBytes?: number;
}

/** What the filter does with the connection now. */
export type H2AuthorityFilterMode = 'mirror' | 'rewrite' | 'transparent' | 'failed';

const enum Phase {
  Preface,
  FrameHeader,
  PassPayload,
  HoldPayload,
}

const AUTHORITY_NAME = HPACK_STATIC_TABLE[0].name;

/** An open header block: its HEADERS frame's metadata and the fragments so far. */
interface OpenBlock {
  streamId: number;
  /** The HEADERS frame's END_STREAM flag. */
  endStream: boolean;
  /** The HEADERS frame's priority fields, or null. */
  priority: Buffer | null;
  fragments: Buffer[];
}

/** The client→server filter of one connection (see the file comment). Not reusable. */
export class H2AuthorityFilter {
  private readonly sink: H2AuthorityFilterSink;
  private readonly maxFrameSize: number;
  private readonly maxHeaderBlockBytes: number;
  private readonly decoder: HpackDecoder;
  private state: H2AuthorityFilterMode = 'mirror';
  private phase = Phase.Preface;
  private prefaceSeen = 0;
  /** The first octets of a frame header cut by the end of a chunk; prepended to the next. */
  private carry: Buffer | null = null;
  /** The frame being read. */
  private frame: H2FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0 };
  private remaining = 0;
  /** Payload pieces of the held frame being read. */
  private framePayload: Buffer[] = [];
  private block: OpenBlock | null = null;
  /** True from a HEADERS frame header to its END_HEADERS frame's last octet. */
  private holding = false;
  /** Held original octets from earlier chunks (the current chunk's are a range of it). */
  private heldOriginal: Buffer[] = [];
  private heldBytes = 0;
  /** Output of the current `push`, emitted at its end as one chunk. */
  private out: Buffer[] = [];

  constructor(sink: H2AuthorityFilterSink, options: H2AuthorityFilterOptions = {}) {
    this.sink = sink;
    this.maxFrameSize = options.maxFrameSize ?? H2_DEFAULT_MAX_FRAME_SIZE;
    this.maxHeaderBlockBytes = options.maxHeaderBlockBytes ?? 256 * 1024;
    this.decoder = new HpackDecoder({
      maxTableSize: options.maxTableSize ?? 4096,
      maxHeaderListBytes: options.maxHeaderListBytes ?? 256 * 1024,
    });
  }

  /** The current mode (see the file comment). */
  get mode(): H2AuthorityFilterMode {
    return this.state;
  }

  /**
   * Feeds the next octets from the client. Output goes to the sink's `data` (at most one call
   * per push), or the sink's `fail` is called. Never throws for any input.
   */
  push(input: Buffer): void {
    if (this.state === 'failed') return;
    if (this.state === 'transparent') {
      if (input.length > 0) this.sink.data(input);
      return;
    }
    let chunk = input;
    if (this.carry !== null) {
      chunk = Buffer.concat([this.carry, input]);
      this.carry = null;
    }
    try {
      this.scan(chunk);
    } catch (err) {
      // Only a bug can get here; treat it like any input we cannot follow.
      this.out = [];
      this.state = 'failed';
      this.sink.fail(`h2 authority filter: ${(err as Error).message}`);
      return;
    }
    if ((this.state as H2AuthorityFilterMode) === 'failed') return; // scan may have failed it
    const out = this.out;
    this.out = [];
    if (out.length === 1) this.sink.data(out[0]);
    else if (out.length > 1) this.sink.data(Buffer.concat(out));
  }

  /** Walks one chunk; appends output to `this.out`. */
  private scan(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    /** Start of the octets to forward verbatim that are not emitted yet. */
    let run = 0;
    /** Start of this chunk's part of the held octets (meaningful while holding). */
    let holdStart = 0;
    while (i < n) {
      switch (this.phase) {
        case Phase.Preface: {
          const take = Math.min(HTTP2_PREFACE.length - this.prefaceSeen, n - i);
          if (chunk.compare(HTTP2_PREFACE, this.prefaceSeen, this.prefaceSeen + take, i, i + take) !== 0) {
            this.state = 'transparent'; // not HTTP/2 after all: node answers it
            this.emit(chunk, run, n);
            return;
          }
          this.prefaceSeen += take;
          i += take;
          if (this.prefaceSeen === HTTP2_PREFACE.length) this.phase = Phase.FrameHeader;
          break;
        }
        case Phase.FrameHeader: {
          if (n - i < H2_FRAME_HEADER_BYTES) {
            // Keep the partial header for the next chunk (not forwarded, not held yet).
            this.carry = Buffer.from(chunk.subarray(i));
            this.endChunk(chunk, run, holdStart, i);
            return;
          }
          const at = i;
          this.frame = readFrameHeader(chunk, at);
          i += H2_FRAME_HEADER_BYTES;
          const problem = this.checkFrame(this.frame);
          if (problem !== null) {
            if (!this.giveUp(problem, chunk, run, holdStart)) return;
            run = this.holding ? holdStart : run;
            this.emit(chunk, run, n);
            return;
          }
          this.remaining = this.frame.length;
          if (this.isHeaderFrame(this.frame.type)) {
            if (!this.holding) {
              this.holding = true;
              holdStart = at;
            }
            this.heldBytes += H2_FRAME_HEADER_BYTES + this.frame.length;
            this.phase = Phase.HoldPayload;
            if (this.remaining === 0) i = this.completeHeldFrame(chunk, i, run, holdStart, (r) => (run = r));
          } else {
            this.phase = this.remaining === 0 ? Phase.FrameHeader : Phase.PassPayload;
          }
          break;
        }
        case Phase.PassPayload: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.phase = Phase.FrameHeader;
          break;
        }
        case Phase.HoldPayload: {
          const take = Math.min(this.remaining, n - i);
          this.framePayload.push(chunk.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) i = this.completeHeldFrame(chunk, i, run, holdStart, (r) => (run = r));
          break;
        }
      }
      if (this.state === 'failed') return;
      if (this.state === 'transparent') {
        this.emit(chunk, run, n);
        return;
      }
    }
    this.endChunk(chunk, run, holdStart, n);
  }

  /** At the end of a chunk (or before a carried partial header at `end`): flush what is decided. */
  private endChunk(chunk: Buffer, run: number, holdStart: number, end: number): void {
    if (this.holding) {
      this.emit(chunk, run, holdStart);
      if (end > holdStart) this.heldOriginal.push(chunk.subarray(holdStart, end));
    } else {
      this.emit(chunk, run, end);
    }
  }

  private isHeaderFrame(type: number): boolean {
    return type === H2FrameType.HEADERS || type === H2FrameType.CONTINUATION;
  }

  /** Why a frame cannot be followed, or null. */
  private checkFrame(frame: H2FrameHeader): string | null {
    const open = this.block !== null;
    if (open && (frame.type !== H2FrameType.CONTINUATION || frame.streamId !== this.block!.streamId)) {
      return 'frame other than CONTINUATION inside a header block';
    }
    if (!open && frame.type === H2FrameType.CONTINUATION) return 'CONTINUATION outside a header block';
    // A client must not send PUSH_PROMISE; its header block would desynchronise our decoder.
    if (frame.type === H2FrameType.PUSH_PROMISE) return 'PUSH_PROMISE from a client';
    if (!this.isHeaderFrame(frame.type)) return null;
    if (frame.streamId === 0) return 'header block on stream 0';
    if (frame.length > this.maxFrameSize) return 'header frame above the maximum frame size';
    if (this.heldBytes + H2_FRAME_HEADER_BYTES + frame.length > this.maxHeaderBlockBytes) return 'header block too large';
    return null;
  }

  /**
   * The last payload octet of a held frame is at `i - 1`. Records its fragment and, on
   * END_HEADERS, decides the block. Returns where scanning continues; updates `run` through
   * `setRun` when the held octets were emitted otherwise than verbatim.
   */
  private completeHeldFrame(chunk: Buffer, i: number, run: number, holdStart: number, setRun: (run: number) => void): number {
    const payload = this.framePayload.length === 1 ? this.framePayload[0] : Buffer.concat(this.framePayload);
    this.framePayload = [];
    this.phase = Phase.FrameHeader;
    const frame = this.frame;
    if (frame.type === H2FrameType.HEADERS) {
      const opened = this.openBlock(frame, payload);
      if (typeof opened === 'string') {
        if (this.giveUp(opened, chunk, run, holdStart)) setRun(holdStart);
        return i;
      }
      this.block = opened;
    } else {
      this.block!.fragments.push(payload);
    }
    if ((frame.flags & H2Flag.END_HEADERS) === 0) return i;
    this.finishBlock(chunk, i, run, holdStart, setRun);
    return i;
  }

  /** Parses a HEADERS payload (RFC 9113 §6.2): padding and priority around the fragment. */
  private openBlock(frame: H2FrameHeader, payload: Buffer): OpenBlock | string {
    let start = 0;
    let padding = 0;
    if ((frame.flags & H2Flag.PADDED) !== 0) {
      if (payload.length < 1) return 'PADDED HEADERS without a pad length';
      padding = payload[0];
      start = 1;
    }
    let priority: Buffer | null = null;
    if ((frame.flags & H2Flag.PRIORITY) !== 0) {
      if (payload.length < start + H2_PRIORITY_BYTES) return 'HEADERS too short for its priority';
      priority = payload.subarray(start, start + H2_PRIORITY_BYTES);
      start += H2_PRIORITY_BYTES;
    }
    if (start + padding > payload.length) return 'HEADERS padding longer than the payload';
    return {
      streamId: frame.streamId,
      endStream: (frame.flags & H2Flag.END_STREAM) !== 0,
      priority,
      fragments: [payload.subarray(start, payload.length - padding)],
    };
  }

  /** Decodes the complete block and forwards it: original octets, or re-encoded. */
  private finishBlock(chunk: Buffer, i: number, run: number, holdStart: number, setRun: (run: number) => void): void {
    const block = this.block!;
    this.block = null;
    const encoded = block.fragments.length === 1 ? block.fragments[0] : Buffer.concat(block.fragments);
    let fields: HpackField[];
    try {
      fields = this.decoder.decode(encoded);
    } catch (err) {
      if (!(err instanceof HpackError)) throw err;
      if (this.giveUp(err.message, chunk, run, holdStart)) setRun(holdStart);
      return;
    }
    const rewritten = rewriteAuthorities(fields);
    this.holding = false;
    this.heldBytes = 0;
    if (rewritten === undefined && this.state === 'mirror') {
      // Forward the original octets. Held in this chunk only: they are part of the verbatim run.
      if (this.heldOriginal.length > 0) {
        this.emit(chunk, run, holdStart);
        this.out.push(...this.heldOriginal);
        this.heldOriginal = [];
        setRun(holdStart);
      }
      return;
    }
    this.state = 'rewrite';
    this.emit(chunk, run, holdStart);
    this.heldOriginal = [];
    this.out.push(this.encodeFrames(block, encodeLiteralHeaderBlock(rewritten ?? fields)));
    setRun(i);
  }

  /** HEADERS + CONTINUATION frames carrying `fragment`, no padding, each within the frame limit. */
  private encodeFrames(block: OpenBlock, fragment: Buffer): Buffer {
    const prefix = block.priority === null ? 0 : H2_PRIORITY_BYTES;
    const firstRoom = this.maxFrameSize - prefix;
    const rest = Math.max(0, fragment.length - firstRoom);
    const continuations = Math.ceil(rest / this.maxFrameSize);
    const out = Buffer.allocUnsafe((1 + continuations) * H2_FRAME_HEADER_BYTES + prefix + fragment.length);
    let pos = 0;
    let from = 0;
    for (let k = 0; k <= continuations; k++) {
      const room = k === 0 ? firstRoom : this.maxFrameSize;
      const size = Math.min(room, fragment.length - from);
      const last = k === continuations;
      let flags = last ? H2Flag.END_HEADERS : 0;
      if (k === 0) {
        if (block.endStream) flags |= H2Flag.END_STREAM;
        if (block.priority !== null) flags |= H2Flag.PRIORITY;
      }
      pos = writeFrameHeader(out, pos, {
        length: size + (k === 0 ? prefix : 0),
        type: k === 0 ? H2FrameType.HEADERS : H2FrameType.CONTINUATION,
        flags,
        streamId: block.streamId,
      });
      if (k === 0 && block.priority !== null) pos += block.priority.copy(out, pos);
      pos += fragment.copy(out, pos, from, from + size);
      from += size;
    }
    return out;
  }

  /**
   * Input we cannot follow. In mirror mode: emits everything held so far, switches to
   * transparent and returns true (the caller then forwards the rest of the chunk from
   * `holdStart` if holding, else from its run). After a rewrite: fails the connection, false.
   */
  private giveUp(reason: string, chunk: Buffer, run: number, holdStart: number): boolean {
    if (this.state !== 'mirror') {
      this.out = [];
      this.state = 'failed';
      this.sink.fail(`h2 authority filter: ${reason}`);
      return false;
    }
    if (this.holding) {
      this.emit(chunk, run, holdStart);
      this.out.push(...this.heldOriginal);
      this.heldOriginal = [];
    }
    this.state = 'transparent';
    return true;
  }

  private emit(chunk: Buffer, from: number, to: number): void {
    if (to > from) this.out.push(chunk.subarray(from, to));
  }
}

/**
 * The fields with every reducible `:authority` reduced, or undefined when none is (the common
 * case allocates nothing).
 */
function rewriteAuthorities(fields: HpackField[]): HpackField[] | undefined {
  let result: HpackField[] | undefined;
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k];
    if (f.name !== AUTHORITY_NAME && !(f.name.length === AUTHORITY_NAME.length && f.name.equals(AUTHORITY_NAME))) continue;
    const reduced = normalizeAuthority(f.value);
    if (reduced === undefined) continue;
    result ??= fields.slice();
    result[k] = { name: f.name, value: reduced, sensitive: f.sensitive };
  }
  return result;
}
