/**
 * `ZkWireClient`: a minimal ZooKeeper client over our jute codec — handshake, pipelined
 * requests matched to replies in order, notifications, pings. The cross-checker uses it to talk
 * to the oracle (a real ZooKeeper); tests and benchmarks use it to send exactly the bytes they
 * mean to (no client-side validation or retries).
 */
import { Socket, connect } from 'node:net';
import { ConnectionOptions, connect as connectTls } from 'node:tls';
import {
  ConnectResponse, FrameDecoder, JuteReader, JuteWriter, OpCode, ReplyHeader, WatcherEvent, ZkRequest, ZkResponse,
  decodeResponse, encodeRequest, readConnectResponse, readReplyHeader, readWatcherEvent, requestOpCode,
  writeConnectRequest, writeRequestHeader,
} from '../../protocol/jute';
import { ZK_MAX_FRAME_DEFAULT } from '../limits';

/** A reply as the client sees it. */
export interface WireReply {
  header: ReplyHeader;
  body?: ZkResponse;
  /** Ordinal of this frame among all frames received on the connection (ordering checks). */
  frame: number;
}

/** Options of a connection. */
export interface WireClientOptions {
  host: string;
  port: number;
  timeoutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: bigint;
  /** Send the readOnly byte (default true, like 3.4+ clients). */
  readOnly?: boolean;
  /** Allow a read-only session (canBeReadOnly): the readOnly byte says true. */
  canBeReadOnly?: boolean;
  /** Send pings every timeout/3 (default true). */
  ping?: boolean;
  /**
   * Called for each notification with its frame ordinal (see {@link WireReply.frame}) and its
   * reply header (whose zxid is -1 from ZooKeeper 3.8, the change's zxid from 3.9).
   */
  onNotification?: (e: WatcherEvent, frame: number, header: ReplyHeader) => void;
  /** Connect over TLS (a secure client port) with these options: CA, client certificate… */
  tls?: ConnectionOptions;
}

interface Pending {
  xid: number;
  type: number;
  resolve: (r: WireReply) => void;
  reject: (e: Error) => void;
}

/** One client connection. */
export class ZkWireClient {
  private readonly decoder = new FrameDecoder(ZK_MAX_FRAME_DEFAULT * 4);
  private readonly pending: Pending[] = [];
  private xid = 1;
  private frames = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The ConnectResponse (session id, password, negotiated timeout). */
  session!: ConnectResponse;

  private constructor(private readonly socket: Socket, private readonly opts: WireClientOptions) {}

  /** Connects (over TLS when `tls` is given) and completes the handshake. Rejects if the server closes instead. */
  static async connect(opts: WireClientOptions): Promise<ZkWireClient> {
    const socket = opts.tls ? connectTls({ ...opts.tls, host: opts.host, port: opts.port }) : connect({ host: opts.host, port: opts.port });
    const c = new ZkWireClient(socket, opts);
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed before it was established')));
    });
    socket.setNoDelay(true);
    return c.handshake();
  }

  private handshake(): Promise<ZkWireClient> {
    const o = this.opts;
    const w = new JuteWriter().startFrame();
    writeConnectRequest(w, {
      protocolVersion: 0, lastZxidSeen: o.lastZxidSeen ?? 0n, timeOut: o.timeoutMs ?? 10_000,
      sessionId: o.sessionId ?? 0n, passwd: o.passwd ?? Buffer.alloc(16), readOnly: o.readOnly === false ? undefined : o.canBeReadOnly === true,
    });
    this.socket.write(w.endFrame().toBuffer());
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(new Error('connection closed during handshake'));
      this.socket.once('close', onClose);
      const first = (chunk: Buffer): void => {
        this.decoder.push(chunk);
        const f = this.decoder.next();
        if (!f) return;
        this.socket.off('data', first);
        this.socket.off('close', onClose);
        this.session = readConnectResponse(new JuteReader(f));
        this.socket.on('data', (d: Buffer) => this.onData(d));
        this.socket.on('close', () => this.failAll(new Error('connection closed')));
        this.socket.on('error', () => undefined);
        this.onData(Buffer.alloc(0));
        if (this.session.timeOut > 0 && o.ping !== false) {
          this.pingTimer = setInterval(() => void this.send({ op: 'ping' }).catch(() => undefined), this.session.timeOut / 3);
          this.pingTimer.unref();
        }
        resolve(this);
      };
      this.socket.on('data', first);
    });
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (let f = this.decoder.next(); f; f = this.decoder.next()) {
      const r = new JuteReader(f, ZK_MAX_FRAME_DEFAULT * 4);
      const header = readReplyHeader(r);
      const frame = ++this.frames;
      if (header.xid === -1) {
        this.opts.onNotification?.(readWatcherEvent(r), frame, header);
        continue;
      }
      const p = this.pending.shift();
      if (!p) continue;
      if (p.xid !== header.xid) {
        p.reject(new Error(`xid out of order: expected ${p.xid}, got ${header.xid}`));
        continue;
      }
      let body: ZkResponse | undefined;
      // multi results and a failed sasl step's (null) token come with a non-zero err too.
      const bodyOnError = p.type === OpCode.multi || p.type === OpCode.multiRead || p.type === OpCode.sasl;
      if ((header.err === 0 || bodyOnError) && r.remaining() > 0) body = decodeResponse(p.type, r);
      p.resolve({ header, body, frame });
    }
  }

  /** Sends a request; resolves with its reply (in order). Special ops use their special xids. */
  send(req: ZkRequest, type = requestOpCode(req)): Promise<WireReply> {
    if (this.closed) return Promise.reject(new Error('client closed'));
    const xid = req.op === 'ping' ? -2 : req.op === 'auth' ? -4 : req.op === 'setWatches' || req.op === 'setWatches2' ? -8 : this.xid++;
    const w = new JuteWriter().startFrame();
    writeRequestHeader(w, { xid, type });
    encodeRequest(w, req);
    return this.sendRaw(w.endFrame().toBuffer(), xid, type);
  }

  /** Sends pre-built bytes (a whole frame) and expects a reply with `xid`. */
  sendRaw(frame: Buffer, xid: number, type: number): Promise<WireReply> {
    return new Promise((resolve, reject) => {
      this.pending.push({ xid, type, resolve, reject });
      this.socket.write(frame);
    });
  }

  /** Resolves when the server closes the connection (or after `ms`, with false). */
  waitClosed(ms: number): Promise<boolean> {
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  private failAll(e: Error): void {
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  /** True once the connection is gone (closed by either side). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the session (closeSession) and the socket. */
  async close(): Promise<void> {
    if (!this.closed) await this.send({ op: 'closeSession' }).catch(() => undefined);
    this.drop();
  }

  /** Drops the TCP connection without closing the session. */
  drop(): void {
    this.failAll(new Error('client dropped'));
    this.socket.destroy();
  }
}
