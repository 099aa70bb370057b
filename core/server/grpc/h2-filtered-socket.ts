/**
 * A duplex stream that node:http2's server takes in place of a cleartext client socket, so the
 * client's octets pass through an {@link H2AuthorityFilter} before nghttp2 sees them.
 *
 * Why a wrapper stream: node:http2 reads a real socket natively (JS never sees the octets), and
 * has no option to relax nghttp2's `:authority` check. Given any other duplex, node wraps it in
 * its JSStreamSocket and feeds nghttp2 from JS, which is where the filter sits. Server→client
 * octets are written to the socket unchanged. That path costs CPU on every call (node copies
 * each outgoing buffer into JS; measured 8–15 µs per unary call, about 15–20 %, on 2026-11-22),
 * so only connections that need the filter take it (h2-first-flight.ts).
 *
 * Lifetime: the socket and this stream close together, whichever side starts (socket error or
 * EOF, session destroy, filter failure).
 */

import { Duplex } from 'node:stream';
import type * as http2 from 'node:http2';
import type * as net from 'node:net';
import { H2AuthorityFilter, type H2AuthorityFilterMode, type H2AuthorityFilterOptions } from './h2-authority-filter';

/** Options of an {@link H2FilteredSocket}. */
export interface H2FilteredSocketOptions extends H2AuthorityFilterOptions {
  /** Told why the connection is being closed when the filter fails (malformed input). */
  onFail?: (reason: string) => void;
}

/** A client socket seen through the authority filter (see the file comment). */
export class H2FilteredSocket extends Duplex {
  /** The real connection. */
  readonly socket: net.Socket;
  private readonly authorityFilter: H2AuthorityFilter;

  /**
   * Takes over `socket`'s reading: its data events feed the filter. The socket should be paused
   * with its first octets (the HTTP/2 preface) still unread or unshifted; reading starts when
   * node:http2 first reads from this stream.
   */
  constructor(socket: net.Socket, options: H2FilteredSocketOptions = {}) {
    super({ decodeStrings: false });
    this.socket = socket;
    this.authorityFilter = new H2AuthorityFilter(
      {
        data: (chunk) => {
          if (!this.push(chunk)) socket.pause();
        },
        fail: (reason) => {
          options.onFail?.(reason);
          socket.destroy();
        },
      },
      options,
    );
    socket.on('data', (chunk: Buffer) => this.authorityFilter.push(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  /** The filter's mode (mirror, rewrite, transparent, failed), for tests and diagnostics. */
  get filterMode(): H2AuthorityFilterMode {
    return this.authorityFilter.mode;
  }

  override _read(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    // node:http2 hands over a session's pending frames as several buffers: one syscall for all.
    this.socket.cork();
    for (let k = 0; k < chunks.length - 1; k++) this.socket.write(chunks[k].chunk);
    this.socket.write(chunks[chunks.length - 1].chunk, callback);
    this.socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

/**
 * Gives a session served over an {@link H2FilteredSocket} the real peer address, so
 * `session.socket.remoteAddress`/`remotePort` (gRPC `peer`, logs, gateway) read as they do for a
 * plain socket. node's stand-in socket has no peer of its own and falls back to `_peername`, so
 * that is what is set. No effect on other sessions.
 */
export function adoptPeerAddress(session: http2.Http2Session): void {
  const proxy = session.socket as unknown as { stream?: unknown; _peername?: unknown } | undefined;
  const inner = proxy?.stream;
  if (!(inner instanceof H2FilteredSocket)) return;
  const { remoteAddress, remotePort, remoteFamily } = inner.socket;
  if (remoteAddress === undefined) return;
  proxy!._peername = { address: remoteAddress, port: remotePort, family: remoteFamily };
}
