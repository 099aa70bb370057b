/**
 * The receiving side of the peer transport: an HTTP/2 (h2c) server on `--listen-peer-urls`.
 *
 * - `POST /raft/stream?lane=&from=&to=&cluster=`: a long-lived stream of framed raft messages
 *   from one peer (see peer-sender.ts). Refused with 412 when the cluster id differs (etcd:
 *   "conflicting cluster ID") or the target is not this member, 410 when the sender was removed
 *   (the sender then shuts down, as a removed etcd member does). A stream open when its sender
 *   is removed is closed at its next message, so that the sender reconnects and meets the 410.
 * - `POST /raft/snapshot`: a Raft snapshot from the leader, on a connection of its own
 *   (snapshot-stream.ts for the body, snapshot-receiver.ts for what is done with it).
 * - `GET /members`: this member's view of the cluster (joining members and the "already
 *   bootstrapped" check read it).
 * - `GET /raft/log`: the state of this member's Raft log (first/last index, last snapshot), for
 *   operators and tests that check that compaction keeps it bounded.
 * - `POST /<anything else>`: JSON requests handled by the owner (forwarded lease keep-alives and
 *   membership changes); a thrown `CoreError` answers `{error: code, detail}` with status 409.
 */
import * as http2 from 'node:http2';
import { Logger } from '../util/logger';
import { isCoreError } from '../util/core-error';
import { Message } from '../raft/types';
import { FrameDecoder } from './peer-frame';
import { PEER_SESSION_WINDOW, PEER_STREAM_WINDOW } from './peer-sender';

/** Largest JSON request body accepted (member URLs, lease ids: tiny). */
const MAX_JSON_BODY = 64 * 1024;

/** What the server asks of its owner. */
export interface PeerHandler {
  localId(): bigint;
  clusterId(): bigint;
  isRemoved(id: bigint): boolean;
  /** A raft message from a peer. */
  onMessage(m: Message): void;
  /** The `/members` answer. */
  members(): unknown;
  /** The `/raft/log` answer. */
  raftLog(): unknown;
  /** A `POST /raft/snapshot` stream (snapshot-receiver.ts); the handler answers it. */
  snapshot(stream: http2.ServerHttp2Stream): void;
  /** A JSON request; resolves with the JSON answer. */
  rpc(path: string, body: unknown): Promise<unknown>;
}

/** The peer listener. */
export class PeerServer {
  private constructor(
    private readonly server: http2.Http2Server,
    private readonly sessions: Set<http2.ServerHttp2Session>,
  ) {}

  /** Listens on every URL (host and port of each). */
  static async listen(urls: string[], handler: PeerHandler, logger: Logger): Promise<PeerServer[]> {
    const out: PeerServer[] = [];
    for (const u of urls) {
      const url = new URL(u);
      const sessions = new Set<http2.ServerHttp2Session>();
      const server = http2.createServer({ settings: { initialWindowSize: PEER_STREAM_WINDOW } });
      // Acks and votes must not wait for Nagle's algorithm (see peer-sender.ts).
      server.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(true));
      server.on('session', (s) => {
        sessions.add(s);
        s.on('close', () => sessions.delete(s));
        s.on('error', () => {});
        s.on('connect', () => s.setLocalWindowSize(PEER_SESSION_WINDOW));
      });
      server.on('stream', (stream, headers) => route(stream as http2.ServerHttp2Stream, headers, handler, logger));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(url.port || 2380), url.hostname, () => {
          server.off('error', reject);
          resolve();
        });
      });
      out.push(new PeerServer(server, sessions));
    }
    return out;
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function route(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, handler: PeerHandler, logger: Logger): void {
  stream.on('error', () => {});
  const url = new URL(String(headers[':path'] ?? '/'), 'http://peer');
  if (url.pathname === '/raft/stream') return raftStream(stream, url, handler, logger);
  if (url.pathname === '/raft/snapshot' && headers[':method'] === 'POST') return handler.snapshot(stream);
  if (url.pathname === '/members' && headers[':method'] === 'GET') return json(stream, 200, handler.members());
  if (url.pathname === '/raft/log' && headers[':method'] === 'GET') return json(stream, 200, handler.raftLog());
  if (headers[':method'] !== 'POST') return json(stream, 405, { error: 'method not allowed' });
  readJson(stream).then(
    (body) => handler.rpc(url.pathname, body),
  ).then(
    (answer) => json(stream, 200, answer ?? {}),
    (err) => {
      if (isCoreError(err)) return json(stream, 409, { error: err.code, detail: err.message });
      logger.warn({ err, path: url.pathname }, 'peer request failed');
      json(stream, 500, { error: String((err as Error).message ?? err) });
    },
  );
}

function raftStream(stream: http2.ServerHttp2Stream, url: URL, handler: PeerHandler, logger: Logger): void {
  const from = parseId(url.searchParams.get('from'));
  const to = parseId(url.searchParams.get('to'));
  const cluster = parseId(url.searchParams.get('cluster'));
  if (cluster !== handler.clusterId()) {
    logger.warn({ from: from?.toString(16), theirs: cluster?.toString(16), ours: handler.clusterId().toString(16) }, 'request cluster ID mismatch');
    return json(stream, 412, { error: 'cluster ID mismatch' });
  }
  if (from === undefined || handler.isRemoved(from)) return json(stream, 410, { error: 'the member has been permanently removed from the cluster' });
  if (to !== handler.localId()) return json(stream, 404, { error: 'wrong member id' });
  stream.respond({ ':status': 200 });
  const decoder = new FrameDecoder();
  stream.on('data', (chunk: Buffer) => {
    let msgs: Message[];
    try {
      msgs = decoder.push(chunk);
    } catch (err) {
      logger.warn({ err, from: from.toString(16) }, 'bad frame on raft stream; dropping the stream');
      stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    if (msgs.length > 0 && handler.isRemoved(from)) {
      // Removed while its stream was open: the removed member may never apply its own removal
      // (the leader stops replicating to it), so end the stream; it reconnects, gets the 410
      // above, and shuts down (etcd closes a removed peer's streams for the same reason).
      logger.info({ from: from.toString(16) }, 'closing the raft stream of a removed member');
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    for (const m of msgs) {
      if (m.from !== from || m.to !== to) continue; // a frame for someone else: never trust it
      handler.onMessage(m);
    }
  });
  stream.on('end', () => setImmediate(() => stream.end())); // see dropSession in peer-sender.ts
}

function parseId(s: string | null): bigint | undefined {
  if (!s || !/^[0-9a-f]{1,16}$/.test(s)) return undefined;
  return BigInt('0x' + s);
}

function readJson(stream: http2.ServerHttp2Stream): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_JSON_BODY) {
        reject(new Error('peer request body too large'));
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      chunks.push(c);
    });
    stream.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(text ? JSON.parse(text) : undefined);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

function json(stream: http2.ServerHttp2Stream, status: number, body: unknown): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': status, 'content-type': 'application/json' });
  stream.end(JSON.stringify(body));
}
