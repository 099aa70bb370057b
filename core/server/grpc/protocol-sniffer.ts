/**
 * Decides whether a fresh cleartext connection speaks HTTP/2 (prior knowledge, as etcdctl and Go
 * clients do against http://host:2379) or HTTP/1.x, by its first bytes — the job etcd gives to
 * cmux. Node's `allowHTTP1` only works with TLS (it keys on ALPN), so cleartext needs this.
 *
 * The bytes read while deciding are pushed back onto the socket (`unshift`), so the protocol
 * server that takes the socket sees the connection from its first byte.
 */

import type { Socket } from 'node:net';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The protocol a connection speaks, judged by its first bytes. */
export type SniffedProtocol = 'http2' | 'http1';

/**
 * Classifies the bytes seen so far: 'http2' once they hold the whole preface, 'http1' as soon as
 * they diverge from it (anything that is not HTTP/2 is left to the HTTP/1 parser, which rejects
 * garbage with 400), undefined while they are a proper prefix of the preface.
 */
export function classifyPrefix(bytes: Buffer): SniffedProtocol | undefined {
  const n = Math.min(bytes.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== HTTP2_PREFACE[i]) return 'http1';
  }
  return n === HTTP2_PREFACE.length ? 'http2' : undefined;
}

/**
 * Reads from `socket` until its protocol is known, puts the bytes back and calls `onProtocol`
 * with the socket paused. Closes the socket (and never calls back) if it errors, ends, or sends
 * nothing decisive within `timeoutMs`. The buffered bytes are bounded by the preface length plus
 * one chunk.
 */
export function sniffProtocol(
  socket: Socket,
  timeoutMs: number,
  onProtocol: (protocol: SniffedProtocol) => void,
): void {
  let seen: Buffer = Buffer.alloc(0);
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onFailure);
    socket.removeListener('end', onFailure);
  };
  const onFailure = (): void => {
    cleanup();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = classifyPrefix(seen);
    if (protocol === undefined) return;
    cleanup();
    socket.pause();
    socket.unshift(seen);
    onProtocol(protocol);
  };
  const timer = setTimeout(onFailure, timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.on('error', onFailure);
  socket.on('end', onFailure);
}
