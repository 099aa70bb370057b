/**
 * Decides, per cleartext HTTP/2 connection, whether node:http2 may read the socket directly or
 * must read it through the `:authority` filter, by looking at the client's first header block
 * before node sees the connection.
 *
 * Why: the filter needs node to read through a JS stream (JSStreamSocket), which costs about
 * 8–15 µs of server CPU per unary call (h2-filtered-socket.ts). Only clients that send a
 * URL as `:authority` need it — grpc-go's passthrough dials (etcdctl's maintenance commands),
 * whose authority is fixed for the connection — so every other connection keeps the native path.
 *
 * How: grpc-go sends nothing but its preface and SETTINGS until it has the server's SETTINGS,
 * so we send the server preface ourselves: an empty SETTINGS frame (RFC 9113 §3.4 allows
 * parameters to follow in later SETTINGS; node's own SETTINGS comes next, once it has the
 * socket). The client must acknowledge ours (§6.5.3); that ACK is removed from what node gets,
 * since node never sent that frame (nghttp2 rejects an unexpected ACK). Node receives every
 * other octet, in order, from the preface on. We hand over once both the first header block
 * has been judged and the ACK has been seen; a frame that needs an answer before any request
 * (PING) settles the route as native at once. A client that sends its request before reading
 * our SETTINGS waits one round trip for its own ACK; grpc-go waits for our SETTINGS anyway.
 *
 * Limit: the route is per connection. A connection whose first request has a plain authority
 * and a later one a URL (no known client does this; grpc-go fixes the authority per
 * connection) is served natively, and node resets that later stream, as before this filter.
 *
 * Bounds: the held octets are bounded (a client can send at most 64 KiB of DATA before a
 * WINDOW_UPDATE, so a legitimate first flight is far below the bound), and so is the wait. On
 * reaching either, the connection goes to node natively as is; should the ACK arrive later,
 * nghttp2 ends that connection, as it would for any unexpected ACK.
 */

import type * as net from 'node:net';
import { H2_DEFAULT_MAX_FRAME_SIZE, H2_FRAME_HEADER_BYTES, H2Flag, H2FrameType, readFrameHeader } from './h2-frame';
import { normalizeAuthority } from './h2-authority';
import { HpackDecoder } from './hpack-decoder';
import { HPACK_STATIC_TABLE } from './hpack-static-table';
import { HTTP2_PREFACE } from './protocol-sniffer';

/** How node:http2 reads a connection: directly, or through the `:authority` filter. */
export type H2Route = 'native' | 'filtered';

/** Options of {@link routeHttp2Connection}. */
export interface H2FirstFlightOptions {
  /** Longest wait for the first header block and our ACK; then native. */
  timeoutMs: number;
  /** Octets held before handing over regardless (default 1 MiB). */
  maxHeldBytes?: number;
  /** The server's SETTINGS_HEADER_TABLE_SIZE (default 4096). */
  maxTableSize?: number;
  /** The server's SETTINGS_MAX_FRAME_SIZE (default 16384). */
  maxFrameSize?: number;
}

/** Our server preface: a SETTINGS frame without parameters. */
export const EMPTY_SETTINGS_FRAME = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
const SETTINGS = 0x4;
const WINDOW_UPDATE = 0x8;
const PRIORITY = 0x2;
const AUTHORITY_NAME = HPACK_STATIC_TABLE[0].name;

/**
 * Takes over reading `socket` (paused, its first octets — the preface — unread or unshifted),
 * sends our SETTINGS, and once decided puts back every octet except the ACK of our SETTINGS
 * and calls `onRoute` with the socket paused. If the socket fails or closes first, it is
 * destroyed and `onRoute` is never called.
 */
export function routeHttp2Connection(socket: net.Socket, options: H2FirstFlightOptions, onRoute: (route: H2Route) => void): void {
  const judge = new FirstFlight(options.maxTableSize ?? 4096, options.maxFrameSize ?? H2_DEFAULT_MAX_FRAME_SIZE);
  const maxHeld = options.maxHeldBytes ?? 1024 * 1024;
  let held: Buffer = Buffer.alloc(0);
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onFailure);
    socket.removeListener('end', onFailure);
    socket.removeListener('close', onFailure);
  };
  const finish = (route: H2Route): void => {
    cleanup();
    socket.pause();
    const rest = judge.withoutAck(held);
    if (rest.length > 0) socket.unshift(rest);
    onRoute(route);
  };
  const onFailure = (): void => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    const route = judge.scan(held);
    if (route !== undefined) finish(route);
    else if (held.length > maxHeld) finish('native');
  };
  const timer = setTimeout(() => finish('native'), options.timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.on('error', onFailure);
  socket.on('end', onFailure);
  socket.on('close', onFailure);
  socket.write(EMPTY_SETTINGS_FRAME);
  socket.resume();
}

/** The judgement over the held octets, resumed at each new chunk. */
class FirstFlight {
  private pos = HTTP2_PREFACE.length;
  /** Offset of the ACK of our SETTINGS in the held octets, or -1 while unseen. */
  private ackAt = -1;
  private verdict: H2Route | undefined;
  private readonly fragments: Buffer[] = [];
  private blockStream = -1;

  constructor(
    private readonly maxTableSize: number,
    private readonly maxFrameSize: number,
  ) {}

  /**
   * Advances over complete frames of `held`; the route once judged and acknowledged, or at once
   * 'native' for a frame above the maximum size (node ends such a connection right away).
   */
  scan(held: Buffer): H2Route | undefined {
    while (held.length - this.pos >= H2_FRAME_HEADER_BYTES) {
      const frame = readFrameHeader(held, this.pos);
      if (frame.length > this.maxFrameSize) return 'native';
      const end = this.pos + H2_FRAME_HEADER_BYTES + frame.length;
      if (end > held.length) break;
      this.onFrame(frame.type, frame.flags, frame.streamId, held.subarray(this.pos + H2_FRAME_HEADER_BYTES, end), this.pos);
      this.pos = end;
    }
    return this.ackAt >= 0 ? this.verdict : undefined;
  }

  /** `held` without the 9 octets of the ACK of our SETTINGS (if seen). */
  withoutAck(held: Buffer): Buffer {
    if (this.ackAt < 0) return held;
    return Buffer.concat([held.subarray(0, this.ackAt), held.subarray(this.ackAt + H2_FRAME_HEADER_BYTES)]);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer, at: number): void {
    if (type === SETTINGS && (flags & H2Flag.ACK) !== 0 && this.ackAt < 0 && payload.length === 0) {
      this.ackAt = at;
      return;
    }
    if (this.verdict !== undefined) return;
    if (type === H2FrameType.HEADERS && this.blockStream < 0) {
      this.blockStream = streamId;
      const fragment = headersFragment(flags, payload);
      if (fragment === undefined) {
        this.verdict = 'native';
        return;
      }
      this.fragments.push(fragment);
    } else if (type === H2FrameType.CONTINUATION && streamId === this.blockStream) {
      this.fragments.push(payload);
    } else if (type === SETTINGS || type === WINDOW_UPDATE || type === PRIORITY) {
      if (this.blockStream >= 0) this.verdict = 'native'; // inside a block: node's to reject
      return;
    } else {
      this.verdict = 'native'; // anything else: node must see it now, and we learnt nothing
      return;
    }
    if (this.verdict === undefined && (flags & H2Flag.END_HEADERS) !== 0) this.verdict = this.judgeBlock();
  }

  /** 'filtered' when the first header block carries an `:authority` we would reduce. */
  private judgeBlock(): H2Route {
    try {
      const fields = new HpackDecoder({ maxTableSize: this.maxTableSize }).decode(Buffer.concat(this.fragments));
      for (const f of fields) {
        const isAuthority = f.name === AUTHORITY_NAME || (f.name.length === AUTHORITY_NAME.length && f.name.equals(AUTHORITY_NAME));
        if (isAuthority && normalizeAuthority(f.value) !== undefined) return 'filtered';
      }
    } catch {
      // A block node will reject anyway: nothing for the filter to do.
    }
    return 'native';
  }
}

/** The header block fragment of a HEADERS payload (padding and priority removed), or undefined if malformed. */
function headersFragment(flags: number, payload: Buffer): Buffer | undefined {
  let start = 0;
  let padding = 0;
  if ((flags & H2Flag.PADDED) !== 0) {
    if (payload.length < 1) return undefined;
    padding = payload[0];
    start = 1;
  }
  if ((flags & H2Flag.PRIORITY) !== 0) start += 5;
  if (start + padding > payload.length) return undefined;
  return payload.subarray(start, payload.length - padding);
}
