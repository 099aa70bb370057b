/**
 * A minimal HTTP/2 client connection for gRPC unary load (RFC 9113 framing written by hand).
 * node:http2's client costs tens of microseconds per request (stream objects, async resources,
 * header objects) — as much as the server under test; this one sends a precomputed
 * HEADERS + DATA template per call and reads back only the status, so a 2-core benchmark
 * measures the server and not the generator.
 *
 * Scope, and bounds: unary calls with request bodies that fit the peer's initial stream window
 * (checked; DATA is split at the peer's frame size); up to 2^30 calls per connection (stream
 * ids); responses of any size
 * (we advertise a 1 GiB stream window and return connection window as we go). We advertise a
 * header table size of 0 so responses can be read without a dynamic table (hpack-lite.ts).
 * PINGs are answered, SETTINGS acknowledged, GOAWAY fails the streams it did not process.
 */

import * as net from 'node:net';
import { decodeStatus } from './hpack-lite';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;
const enum FrameType {
  DATA = 0x0,
  HEADERS = 0x1,
  RST_STREAM = 0x3,
  SETTINGS = 0x4,
  PING = 0x6,
  GOAWAY = 0x7,
  WINDOW_UPDATE = 0x8,
  CONTINUATION = 0x9,
}
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
/** Our advertised per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). */
const STREAM_WINDOW = 1 << 30;
/** Connection receive window we keep topped up; updates go out after this much was consumed. */
const CONNECTION_WINDOW = 1 << 30;
const MAX_STREAM_ID = 2 ** 31 - 1;

/** Receives call completions; `status` is a gRPC status number, or a string for transport failures. */
export interface RawCallListener<T> {
  onCallDone(token: T, status: number | string): void;
}

/** Writes a frame header at `offset`. */
function writeFrameHeader(buf: Buffer, offset: number, length: number, type: number, flags: number, streamId: number): void {
  buf.writeUIntBE(length, offset, 3);
  buf[offset + 3] = type;
  buf[offset + 4] = flags;
  buf.writeUInt32BE(streamId, offset + 5);
}

/** One frame as a new buffer. */
function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  payload.copy(out, FRAME_HEADER);
  return out;
}

/**
 * One HTTP/2 connection issuing unary gRPC calls with a fixed header block. `T` is the caller's
 * per-call token, handed back on completion. Implements the runner's `LoadConnection`.
 */
export class RawH2Connection<T> {
  private readonly socket: net.Socket;
  private readonly headerBlock: Buffer;
  private readonly listener: RawCallListener<T>;
  private readonly calls = new Map<number, T>();
  private nextStreamId = 1;
  private sendWindow = 65_535; // connection-level, RFC 9113 §6.9.2 initial value
  private peerInitialWindow = 65_535;
  private peerMaxFrame = 16_384;
  private peerMaxStreams = Infinity;
  private readonly waiting: Array<[T, Buffer]> = [];
  private received: Buffer | null = null;
  private consumed = 0;
  /** Header block fragments of a HEADERS frame awaiting CONTINUATION. */
  private headerFragments: Buffer[] | null = null;
  private headerStream = 0;
  private headerEndStream = false;
  private goawayLastStream = MAX_STREAM_ID;
  private closed = false;
  private ready: Promise<void>;

  constructor(host: string, port: number, headerBlock: Buffer, listener: RawCallListener<T>) {
    this.headerBlock = headerBlock;
    this.listener = listener;
    this.socket = net.connect({ host, port, noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.onSettings = resolve;
      this.onConnectFailed = reject;
    });
    this.socket.on('error', (err) => this.onConnectFailed?.(err));
    this.socket.on('close', () => {
      this.onConnectFailed?.(new Error('connection closed before SETTINGS'));
      this.failAll('TRANSPORT');
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const settings = Buffer.alloc(18);
    settings.writeUInt16BE(0x1, 0); // HEADER_TABLE_SIZE = 0: no dynamic table in responses
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x2, 6); // ENABLE_PUSH = 0
    settings.writeUInt32BE(0, 8);
    settings.writeUInt16BE(0x4, 12); // INITIAL_WINDOW_SIZE
    settings.writeUInt32BE(STREAM_WINDOW, 14);
    const increment = Buffer.alloc(4);
    increment.writeUInt32BE(CONNECTION_WINDOW - 65_535);
    this.socket.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0, settings), frame(FrameType.WINDOW_UPDATE, 0, 0, increment)]));
  }

  private onSettings: (() => void) | null = null;
  private onConnectFailed: ((err: Error) => void) | null = null;

  /** Resolves once the server's first SETTINGS arrived; rejects if the connection failed first. */
  connected(): Promise<void> {
    return this.ready;
  }

  /** Calls in flight on this connection. */
  get inFlight(): number {
    return this.calls.size + this.waiting.length;
  }

  /** True while new calls can start (not closed, no GOAWAY, stream ids left). */
  get usable(): boolean {
    return !this.closed && this.goawayLastStream === MAX_STREAM_ID && this.nextStreamId <= MAX_STREAM_ID;
  }

  /**
   * Starts one call with `framed` (the 5-byte-prefixed gRPC message) as its body. Returns false if
   * the connection cannot take it. Calls beyond the peer's stream limit or connection window wait.
   */
  start(token: T, framed: Buffer): boolean {
    if (!this.usable) return false;
    if (framed.length > this.peerInitialWindow) {
      throw new Error(`request body of ${framed.length} bytes exceeds the peer's stream window (${this.peerInitialWindow})`);
    }
    if (this.calls.size >= this.peerMaxStreams || framed.length > this.sendWindow || this.waiting.length > 0) {
      this.waiting.push([token, framed]);
      return true;
    }
    this.send(token, framed);
    return true;
  }

  /** Closes the connection; in-flight calls complete with status 'CLOSED'. */
  close(): void {
    this.failAll('CLOSED');
    this.socket.destroy();
  }

  /** The largest framed request body a call may have (the peer's initial stream window). */
  get maxBodyBytes(): number {
    return this.peerInitialWindow;
  }

  /** Writes HEADERS + DATA (split at the peer's frame size) for a new stream, as one buffer. */
  private send(token: T, framed: Buffer): void {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const hb = this.headerBlock;
    const dataFrames = Math.max(1, Math.ceil(framed.length / this.peerMaxFrame));
    const out = Buffer.allocUnsafe((1 + dataFrames) * FRAME_HEADER + hb.length + framed.length);
    writeFrameHeader(out, 0, hb.length, FrameType.HEADERS, END_HEADERS, id);
    hb.copy(out, FRAME_HEADER);
    let at = FRAME_HEADER + hb.length;
    for (let from = 0, k = 0; k < dataFrames; k++) {
      const to = Math.min(framed.length, from + this.peerMaxFrame);
      writeFrameHeader(out, at, to - from, FrameType.DATA, k === dataFrames - 1 ? END_STREAM : 0, id);
      framed.copy(out, at + FRAME_HEADER, from, to);
      at += FRAME_HEADER + to - from;
      from = to;
    }
    this.sendWindow -= framed.length;
    this.calls.set(id, token);
    this.socket.write(out);
  }

  private flushWaiting(): void {
    while (this.waiting.length > 0 && this.calls.size < this.peerMaxStreams && this.waiting[0][1].length <= this.sendWindow && this.usable) {
      const [token, framed] = this.waiting.shift() as [T, Buffer];
      this.send(token, framed);
    }
  }

  private onData(chunk: Buffer): void {
    const buf = this.received === null ? chunk : Buffer.concat([this.received, chunk]);
    let pos = 0;
    // Writes triggered by this batch of frames (next calls, acks) leave in one syscall.
    this.socket.cork();
    try {
      while (buf.length - pos >= FRAME_HEADER) {
        const length = buf.readUIntBE(pos, 3);
        if (buf.length - pos < FRAME_HEADER + length) break;
        const payload = buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + length);
        this.onFrame(buf[pos + 3], buf[pos + 4], buf.readUInt32BE(pos + 5) & MAX_STREAM_ID, payload);
        pos += FRAME_HEADER + length;
      }
    } catch {
      this.socket.destroy(); // a frame we cannot parse: this connection is unusable
    } finally {
      this.socket.uncork();
    }
    // A partial frame is kept; frames are at most the 16 KiB default unless we raised it (we don't).
    this.received = pos === buf.length ? null : buf.subarray(pos);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    switch (type) {
      case FrameType.DATA:
        this.onDataFrame(flags, streamId, payload.length);
        break;
      case FrameType.HEADERS:
        this.onHeaders(flags, streamId, payload);
        break;
      case FrameType.CONTINUATION:
        this.onContinuation(flags, payload);
        break;
      case FrameType.RST_STREAM:
        this.finish(streamId, `RST_${payload.readUInt32BE(0)}`);
        break;
      case FrameType.SETTINGS:
        if ((flags & ACK) === 0) this.onSettingsFrame(payload);
        break;
      case FrameType.PING:
        if ((flags & ACK) === 0) this.socket.write(frame(FrameType.PING, ACK, 0, payload));
        break;
      case FrameType.GOAWAY:
        this.onGoaway(payload.readUInt32BE(0) & MAX_STREAM_ID);
        break;
      case FrameType.WINDOW_UPDATE:
        if (streamId === 0) {
          this.sendWindow += payload.readUInt32BE(0) & MAX_STREAM_ID;
          this.flushWaiting();
        }
        break;
      default:
        break; // PRIORITY, PUSH_PROMISE (disabled), unknown: ignore
    }
  }

  private onDataFrame(flags: number, streamId: number, length: number): void {
    this.consumed += length;
    if (this.consumed >= CONNECTION_WINDOW / 2) {
      const increment = Buffer.alloc(4);
      increment.writeUInt32BE(this.consumed);
      this.socket.write(frame(FrameType.WINDOW_UPDATE, 0, 0, increment));
      this.consumed = 0;
    }
    if (flags & END_STREAM) this.finish(streamId, 'NO_TRAILERS'); // a gRPC response ends with trailers
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    let start = 0;
    let end = payload.length;
    if (flags & PADDED) {
      end -= payload[0];
      start = 1;
    }
    if (flags & PRIORITY) start += 5;
    this.headerStream = streamId;
    this.headerEndStream = (flags & END_STREAM) !== 0;
    const fragment = payload.subarray(start, end);
    if (flags & END_HEADERS) this.onHeaderBlock(fragment);
    else this.headerFragments = [Buffer.from(fragment)];
  }

  private onContinuation(flags: number, payload: Buffer): void {
    if (this.headerFragments === null) return;
    this.headerFragments.push(Buffer.from(payload));
    if (flags & END_HEADERS) {
      const block = Buffer.concat(this.headerFragments);
      this.headerFragments = null;
      this.onHeaderBlock(block);
    }
  }

  /** A complete header block: only the block that ends the stream decides the call. */
  private onHeaderBlock(block: Buffer): void {
    if (!this.headerEndStream) return; // response headers; the status comes in the trailers
    const status = decodeStatus(block);
    if (status.grpcStatus !== undefined && !Number.isNaN(status.grpcStatus)) this.finish(this.headerStream, status.grpcStatus);
    else this.finish(this.headerStream, status.httpStatus !== undefined ? `HTTP_${status.httpStatus}` : 'NO_STATUS');
  }

  private onSettingsFrame(payload: Buffer): void {
    for (let p = 0; p + 6 <= payload.length; p += 6) {
      const id = payload.readUInt16BE(p);
      const value = payload.readUInt32BE(p + 2);
      if (id === 0x3) this.peerMaxStreams = value;
      else if (id === 0x4) this.peerInitialWindow = value;
      else if (id === 0x5) this.peerMaxFrame = value;
    }
    this.socket.write(frame(FrameType.SETTINGS, ACK, 0, Buffer.alloc(0)));
    const resolve = this.onSettings;
    this.onSettings = null;
    this.onConnectFailed = null;
    if (resolve !== null) resolve();
    this.flushWaiting();
  }

  private onGoaway(lastStreamId: number): void {
    this.goawayLastStream = lastStreamId;
    for (const id of [...this.calls.keys()]) if (id > lastStreamId) this.finish(id, 'GOAWAY');
    for (const [token] of this.waiting.splice(0)) this.listener.onCallDone(token, 'GOAWAY');
  }

  private finish(streamId: number, status: number | string): void {
    const token = this.calls.get(streamId);
    if (token === undefined) return;
    this.calls.delete(streamId);
    this.listener.onCallDone(token, status);
    this.flushWaiting();
  }

  private failAll(status: string): void {
    if (this.closed) return;
    this.closed = true;
    const tokens = [...this.calls.values(), ...this.waiting.splice(0).map(([t]) => t)];
    this.calls.clear();
    for (const token of tokens) this.listener.onCallDone(token, status);
  }
}
