/**
 * The sending half of the link to one peer: one long-lived HTTP/2 (h2c) connection to its peer
 * URL carrying two long-lived request streams of framed raft messages:
 *
 * - the **priority** lane: heartbeats, votes, responses, ReadIndex — small messages that decide
 *   leadership, so they never wait behind a large append (each HTTP/2 stream has its own flow
 *   control window, and the receiver drains both eagerly);
 * - the **bulk** lane: appends that carry entries, and snapshots.
 *
 * Each lane has a bounded queue for when its stream pushes back; on overflow, or while the
 * peer is unreachable, messages are dropped and the owner is told (`onUnreachable`), so Raft
 * falls back to probing and retransmits (etcd rafthttp does the same). The connection is
 * re-dialled with exponential backoff, and an HTTP/2 PING detects a peer that stopped
 * answering (SIGSTOP, a cut link) without closing its socket. JSON requests to the peer (member
 * list, forwarded lease keep-alives and membership changes) share the connection.
 */
import * as http2 from 'node:http2';
import { Logger } from '../util/logger';
import { PEER_QUEUE_MESSAGES } from '../util/limits';
import { Message, MessageType } from '../raft/types';
import { encodeFrame } from './peer-frame';
import { connect } from 'node:net';

/** Bytes queued on the bulk lane before dropping (appends are ≤ ~1 MiB each). */
const BULK_QUEUE_BYTES = 64 * 1024 * 1024;
/** Reconnect backoff bounds. */
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 1000;
/** A connection whose PING is unanswered this long is considered dead. */
const PING_INTERVAL_MS = 1000;
const PING_TIMEOUT_MS = 3000;
/** HTTP/2 flow-control windows: big enough that a burst of appends never waits for WINDOW_UPDATE. */
export const PEER_STREAM_WINDOW = 16 * 1024 * 1024;
export const PEER_SESSION_WINDOW = 128 * 1024 * 1024;

/** What a sender needs from its owner. */
export interface PeerSenderOptions {
  localId: bigint;
  remoteId: bigint;
  clusterId: bigint;
  urls: string[];
  logger: Logger;
  /** A message to this peer was dropped. */
  onUnreachable(remoteId: bigint): void;
  /** The peer says this member was removed from the cluster (HTTP 410). */
  onRemoved(): void;
}

/** Result of a JSON request to a peer. */
export interface PeerResponse {
  status: number;
  body: unknown;
}

type LaneName = 'priority' | 'bulk';

interface Lane {
  stream?: http2.ClientHttp2Stream;
  queue: Buffer[];
  queuedBytes: number;
  writable: boolean;
}

/** True for messages that go on the bulk lane. */
export function isBulk(m: Message): boolean {
  return (m.type === MessageType.MsgApp && m.entries.length > 0) || m.type === MessageType.MsgSnap;
}

/** The link to one peer. */
export class PeerSender {
  private session?: http2.ClientHttp2Session;
  private readonly lanes: Record<LaneName, Lane> = { priority: newLane(), bulk: newLane() };
  private backoffMs = BACKOFF_MIN_MS;
  private reconnectTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private closed = false;
  private urlIndex = 0;
  private connectedAt = 0;
  private lastUnreachableReport = 0;

  constructor(private options: PeerSenderOptions) {
    this.dial();
  }

  /** Milliseconds (Date.now) since which the link has been up without a break; 0 when down. */
  get activeSince(): number {
    return this.connectedAt;
  }

  /** Replaces the peer's URLs (MemberUpdate); reconnects if the current URL is gone. */
  updateUrls(urls: string[]): void {
    const current = this.options.urls[this.urlIndex % this.options.urls.length];
    this.options = { ...this.options, urls };
    if (!urls.includes(current!) && this.session) dropSession(this.session);
  }

  /** Queues one message; drops it (and reports) when the lane is down or full. */
  send(m: Message): void {
    if (this.closed) return;
    const lane = this.lanes[isBulk(m) ? 'bulk' : 'priority'];
    const frame = encodeFrame(m);
    if (!lane.stream || lane.stream.destroyed) return this.dropped();
    if (lane.writable && lane.queue.length === 0) {
      lane.writable = lane.stream.write(frame);
      return;
    }
    const limitMsgs = PEER_QUEUE_MESSAGES;
    if (lane.queue.length >= limitMsgs || lane.queuedBytes + frame.length > BULK_QUEUE_BYTES) return this.dropped();
    lane.queue.push(frame);
    lane.queuedBytes += frame.length;
  }

  /** A JSON request over the peer connection (GET when `body` is undefined). */
  request(path: string, body: unknown, timeoutMs: number): Promise<PeerResponse> {
    const session = this.session;
    if (!session || session.destroyed || this.connectedAt === 0) return Promise.reject(new Error('peer unreachable'));
    return peerRequest(session, path, body, timeoutMs);
  }

  /** Closes the link for good. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.session?.destroy();
  }

  private dropped(): void {
    const now = Date.now();
    // Raft needs one report to fall back to probing; reporting every dropped message of a
    // burst would only flood its step loop.
    if (now - this.lastUnreachableReport < 50) return;
    this.lastUnreachableReport = now;
    this.options.onUnreachable(this.options.remoteId);
  }

  private dial(): void {
    if (this.closed) return;
    const url = this.options.urls[this.urlIndex % this.options.urls.length]!;
    const session = http2.connect(url, { settings: { initialWindowSize: PEER_STREAM_WINDOW }, createConnection: noDelayConnection });
    this.session = session;
    session.on('error', () => {}); // 'close' follows; the reconnect happens there
    // A peer shutting down sends GOAWAY; our long-lived streams would keep the session half
    // open (the socket in CLOSE_WAIT) instead of failing over to a reconnect: drop it at once.
    session.on('goaway', () => dropSession(session));
    session.socket?.on('end', () => dropSession(session));
    session.on('connect', () => {
      if (this.closed) return dropSession(session);
      session.setLocalWindowSize(PEER_SESSION_WINDOW);
      this.openLane(session, 'priority');
      this.openLane(session, 'bulk');
      this.connectedAt = Date.now();
      this.backoffMs = BACKOFF_MIN_MS;
      this.startPings(session);
    });
    session.on('close', () => this.disconnected(session));
  }

  private openLane(session: http2.ClientHttp2Session, name: LaneName): void {
    const o = this.options;
    const path = `/raft/stream?lane=${name}&from=${o.localId.toString(16)}&to=${o.remoteId.toString(16)}&cluster=${o.clusterId.toString(16)}`;
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/octet-stream' }, { endStream: false });
    const lane = this.lanes[name];
    lane.stream = stream;
    lane.writable = true;
    stream.on('response', (headers) => {
      const status = Number(headers[':status']);
      if (status === 200) return;
      if (status === 410) {
        o.logger.warn({ peer: o.remoteId.toString(16) }, 'peer says this member was removed from the cluster');
        o.onRemoved();
      } else {
        o.logger.warn({ peer: o.remoteId.toString(16), status }, 'peer refused the raft stream (cluster ID mismatch or unknown member)');
      }
      dropSession(session);
    });
    stream.on('drain', () => this.flush(lane));
    stream.on('end', () => dropSession(session));
    stream.resume(); // the answer has no body worth reading; keep the stream flowing
    stream.on('error', () => dropSession(session));
    stream.on('close', () => {
      if (lane.stream === stream) dropSession(session);
    });
  }

  private flush(lane: Lane): void {
    lane.writable = true;
    while (lane.queue.length > 0 && lane.writable && lane.stream && !lane.stream.destroyed) {
      const f = lane.queue.shift()!;
      lane.queuedBytes -= f.length;
      lane.writable = lane.stream.write(f);
    }
  }

  private startPings(session: http2.ClientHttp2Session): void {
    clearInterval(this.pingTimer);
    let outstanding = 0;
    this.pingTimer = setInterval(() => {
      if (session.destroyed) return;
      if (outstanding > 0 && Date.now() - outstanding > PING_TIMEOUT_MS) {
        this.options.logger.warn({ peer: this.options.remoteId.toString(16) }, 'peer stopped answering pings; reconnecting');
        dropSession(session);
        return;
      }
      if (outstanding > 0) return;
      outstanding = Date.now();
      session.ping(() => (outstanding = 0));
    }, PING_INTERVAL_MS);
  }

  private disconnected(session: http2.ClientHttp2Session): void {
    if (this.session !== session) return;
    clearInterval(this.pingTimer);
    const wasUp = this.connectedAt !== 0;
    this.connectedAt = 0;
    for (const lane of Object.values(this.lanes)) {
      lane.stream = undefined;
      lane.queue = [];
      lane.queuedBytes = 0;
    }
    if (wasUp) this.dropped();
    if (this.closed) return;
    this.urlIndex++;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => this.dial(), wait);
  }
}

/**
 * Destroys a session outside the current event handler. Destroying an HTTP/2 session from
 * inside a stream's 'end'/'close' handler, after the peer tore the session down, sends
 * nghttp2 (Node 20) into an endless loop that fills memory; one turn of the event loop later
 * it is a plain close.
 */
function dropSession(session: http2.ClientHttp2Session): void {
  setImmediate(() => session.destroy());
}

function newLane(): Lane {
  return { queue: [], queuedBytes: 0, writable: false };
}

/** One JSON request on an HTTP/2 session; the body is parsed as JSON when there is one. */
export function peerRequest(session: http2.ClientHttp2Session, path: string, body: unknown, timeoutMs: number): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':method': body === undefined ? 'GET' : 'POST', ':path': path };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let req: http2.ClientHttp2Stream;
    try {
      req = session.request(headers, { endStream: body === undefined });
    } catch (err) {
      reject(err as Error);
      return;
    }
    const timer = setTimeout(() => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`peer request ${path} timed out`));
    }, timeoutMs);
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('end', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve({ status, body: text ? JSON.parse(text) : undefined });
      } catch {
        reject(new Error(`peer answered ${path} with status ${status} and a non-JSON body`));
      }
    });
    if (body !== undefined) req.end(JSON.stringify(body));
  });
}

/** One JSON request to a peer URL on a fresh connection (first boot, before ids are known). */
export function peerRequestUrl(url: string, path: string, body: unknown, timeoutMs: number): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`peer ${url} did not answer ${path} in ${timeoutMs} ms`));
    }, timeoutMs);
    session.on('error', (err) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    });
    session.on('connect', () => {
      peerRequest(session, path, body, timeoutMs).then(
        (r) => {
          clearTimeout(timer);
          session.close();
          resolve(r);
        },
        (err) => {
          clearTimeout(timer);
          session.destroy();
          reject(err as Error);
        },
      );
    });
  });
}

/**
 * The TCP connection under a peer session, with Nagle's algorithm off: Raft messages are small
 * and latency-bound, and with it a MsgApp or its ack waits for the previous segment's ACK (a
 * delayed ACK: tens of milliseconds per round). (An HTTP/2 session's own socket refuses
 * `setNoDelay`, hence the connection is made here.)
 */
function noDelayConnection(authority: URL): import('node:net').Socket {
  return connect({ host: authority.hostname, port: Number(authority.port), noDelay: true });
}
