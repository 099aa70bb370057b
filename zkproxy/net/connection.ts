/**
 * `ZkConnection`: one client TCP connection (zk-protocol.md §1.1–§1.5, §2.1, §6.1, §6.4).
 *
 * - Four-letter words are recognised from the first four bytes of a fresh connection only.
 * - The first frame is the ConnectRequest; bytes that arrive before our ConnectResponse (the
 *   Java client pipelines auth and SetWatches behind it) stay buffered and are processed in
 *   order afterwards.
 * - Replies leave strictly in request order (the Java client drops the connection on an
 *   out-of-order xid). Requests run one at a time, except single-node writes (create, delete,
 *   setData): a run of them is pipelined, several in flight through the connection's write
 *   chain (ops/write-chain.ts), committed in request order as ZooKeeper's request processors
 *   do. Everything else (reads, multi, pings, auth, SetWatches) waits until nothing is in
 *   flight, and nothing starts behind it until it is answered.
 * - A notification never overtakes the reply of a request in flight that it does not precede
 *   in the store's order (see {@link ZkConnection.notify}): a client registers the watch a read
 *   sets when that read's reply arrives, so an event written before it is lost to the client.
 * - Every packet touches the session: liveness is client traffic, not the TCP connection.
 * - Malformed input closes this connection only; an unknown op code is answered with
 *   UNIMPLEMENTED first. Nothing a client sends can throw out of this class.
 */
import { Socket } from 'node:net';
import {
  Acl, FrameDecoder, JuteDecodeError, JuteReader, JuteWriter, OpCode, Perms, ReplyHeader, WatcherEvent, ZkErr,
  decodeRequest, encodeResponse, opName, readConnectRequest, readRequestHeader, writeConnectResponse,
  writeReplyHeader, writeWatcherEvent, ConnectRequest,
} from '../../protocol/jute';
import { toZkCode } from '../errors/zk-error';
import { ZkLogger } from '../logger';
import { ZK_HANDSHAKE_TIMEOUT_MS, ZK_MAX_PIPELINED_WRITES, ZK_MAX_QUEUED_BYTES } from '../limits';
import { AuthId, aclAllows, normalizeAddress } from '../mapping/acl-rules';
import { requestInRevisions, wireResponse, wireZxid, wireZxidNumber } from '../mapping/zxid-base';
import { ZkContext, ZkHandler, ZkReply, dispatch } from '../dispatch/zk-handler';
import { ZkServices } from '../ops/services';
import { WriteChain } from '../ops/write-chain';
import { NOTIFICATION_ZXID } from '../ops/watch-ops';
import { Session, SessionOwner, SessionTable } from '../session/session-table';
import { PASSWORD_BYTES } from '../session/session-password';
import { WatchTarget } from '../watch/watch-manager';
import { FourLetterSource, answerFourLetterWord, fourLetterWord, wordArgumentBytes } from './four-letter-words';
import { FrameSink } from './frame-sink';
import { ServerStats } from './server-stats';
import { ConnectionStats, newConnectionStats, recordConnectionReply } from './connection-stats';
import { admitClient } from './session-admission';
import { elapsedMs } from './elapsed-time';

/** What a connection needs from its listener. */
export interface ConnectionDeps {
  handler: ZkHandler;
  services: ZkServices;
  stats: ServerStats;
  maxFrame: number;
  logger: ZkLogger;
  fourLetter: FourLetterSource;
  onClose(conn: ZkConnection): void;
  /** Identities the transport proved, after the `ip` id (a TLS client certificate's x509 id). */
  identities?: readonly AuthId[];
}

let nextWatchId = 1;

/** Op codes pipelined on a connection: the single-node writes (create, delete, setData, create2, createContainer, createTTL). */
const PIPELINED_OPS: ReadonlySet<number> = new Set([OpCode.create, OpCode.delete, OpCode.setData, OpCode.create2, OpCode.createContainer, OpCode.createTTL]);

/** A request started on the connection and its reply, once answered. */
interface Slot {
  xid: number;
  started: number;
  reply: ZkReply | undefined;
  /** Nothing may start behind it until it is answered. */
  barrier: boolean;
}

/** One client connection. */
export class ZkConnection implements WatchTarget, SessionOwner {
  readonly watchId = nextWatchId++;
  readonly stats: ConnectionStats;
  private readonly decoder: FrameDecoder;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** The handshake is running (nothing else may start). */
  private busy = false;
  private paused = false;
  private ctx: ZkContext | undefined;
  /** Requests started and not yet answered, in request order; notifications wait in `held` meanwhile (see notify()). */
  private pending: Slot[] = [];
  /** A frame taken from the decoder that must wait for the requests in flight. */
  private waiting: Buffer | undefined;
  /** Notifications raised while a request is in flight, with their zxids. */
  private held: Array<{ event: WatcherEvent; zxid: number }> = [];
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly log: ZkLogger;
  private readonly sink: FrameSink;

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.decoder = new FrameDecoder(deps.maxFrame);
    const remote = `${normalizeAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`;
    this.log = deps.logger.child({ conn: this.watchId, remote });
    this.stats = newConnectionStats(remote, (socket as { encrypted?: boolean }).encrypted === true);
    socket.setNoDelay(true);
    this.sink = new FrameSink(socket, ZK_MAX_QUEUED_BYTES, (queued) => {
      this.log.warn({ queued }, 'client not reading; closing');
      socket.destroy();
    });
    // A connection that never completes its handshake holds no session that could expire it.
    this.handshakeTimer = setTimeout(() => this.close('no handshake in time'), ZK_HANDSHAKE_TIMEOUT_MS);
    this.handshakeTimer.unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.log.debug({ err: e.message }, 'socket error'));
    socket.on('close', () => this.onSocketClosed());
  }

  /** The session on this connection, once the handshake is done. */
  session(): Session | undefined {
    return this.ctx?.session;
  }

  /** Not closed: in its handshake, answering a four-letter word, or serving a session. */
  isOpen(): boolean {
    return this.state !== 'closed';
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.stats.touched = elapsedMs();
    this.decoder.push(chunk);
    if (this.state === 'new' && !this.busy && this.tryFourLetterWord()) return;
    if (this.decoder.bufferedBytes() > this.deps.maxFrame * 2 + 8 && !this.paused) {
      this.paused = true;
      this.stats.reading = false;
      this.socket.pause();
    }
    this.pump();
  }

  private tryFourLetterWord(): boolean {
    const code = this.decoder.peekInt();
    if (code === undefined) return false;
    const word = fourLetterWord(code);
    if (!word) return false;
    // A word with an argument (stmk) waits for it; one not allowed is refused without it, as ZooKeeper does.
    const argBytes = this.deps.fourLetter.allowedWords.has(word) ? wordArgumentBytes(word) : 0;
    const asked = this.decoder.peek(4 + argBytes);
    if (!asked) return true;
    // As in ZooKeeper, the asking connection is one of the server's while it is answered: one
    // packet received, not reading (srvr, stat, cons and mntr count and list it).
    this.deps.stats.packetReceived(4);
    this.stats.received++;
    this.stats.reading = false;
    const answer = answerFourLetterWord(word, this.deps.fourLetter, asked.subarray(4));
    this.state = 'closed';
    // ZooKeeper counts each flush of a word's answer as a packet sent, after the answer is made.
    this.deps.stats.packetsSent++;
    this.socket.end(answer);
    this.destroySoon();
    return true;
  }

  /** Starts the next complete frames while they may run (see the file comment). */
  private pump(): void {
    while (!this.busy && this.state !== 'closed') {
      let frame = this.waiting;
      try {
        frame ??= this.decoder.next();
      } catch (e) {
        this.protocolError(e, 'bad frame');
        return;
      }
      if (!frame) break;
      if (this.state === 'new') {
        this.busy = true;
        this.deps.stats.packetReceived(4 + frame.length);
        this.handshake(frame).catch((e: unknown) => this.protocolError(e, 'request failed')).finally(() => {
          this.busy = false;
          this.pump();
        });
        break;
      }
      const type = frame.length >= 8 ? frame.readInt32BE(4) : NaN;
      if (!this.mayStart(type)) {
        this.waiting = frame;
        break;
      }
      this.waiting = undefined;
      this.start(frame, PIPELINED_OPS.has(type));
    }
    if (this.paused && this.decoder.bufferedBytes() <= this.deps.maxFrame) {
      this.paused = false;
      this.stats.reading = true;
      this.socket.resume();
    }
  }

  private protocolError(e: unknown, what: string): void {
    if (e instanceof JuteDecodeError) this.log.info({ reason: e.reason, err: e.message }, `${what}; closing`);
    else this.log.error({ err: e instanceof Error ? e.stack : String(e) }, `${what}; closing`);
    this.close('protocol error');
  }

  private async handshake(frame: Buffer): Promise<void> {
    const started = Date.now();
    const req = readConnectRequest(new JuteReader(frame, this.deps.maxFrame));
    const s = this.deps.services;
    const a = await admitClient(req, s, this);
    if (a.kind === 'refuse') {
      this.log.info({ sessionId: req.sessionId.toString(16), lastZxidSeen: req.lastZxidSeen.toString(16), zxid: this.wire(s.tree.revision).toString(16), readOnly: req.readOnly ?? false }, `${a.why}; closing`);
      this.close(a.why);
      return;
    }
    if (a.kind === 'expired') return this.expired(req, a.readOnly);
    if (this.state === 'closed') {
      // The client left while its session was made or resumed: it is no longer this connection's.
      this.keeperOf(a.session).detach(a.session, this);
      return;
    }
    // ZooKeeper times a new session's createSession txn like any update (mntr, updatelatency).
    if (!a.resumed && !a.session.readOnly) this.deps.stats.recordLatency(Date.now() - started, OpCode.createSession);
    await this.opened(req, a.session, a.resumed);
  }

  /** Tells the client its session expired (timeout 0, id 0, no password) and closes. */
  private expired(req: ConnectRequest, readOnly: boolean): void {
    this.writeConnectResponse(req, 0, 0n, Buffer.alloc(PASSWORD_BYTES), readOnly);
    this.close('session expired');
  }

  /** Answers the handshake for `session` and opens the connection for requests. */
  private async opened(req: ConnectRequest, session: Session, resumed: boolean): Promise<void> {
    const s = this.deps.services;
    // Another write may follow while more bytes are buffered (the client pipelines). Only over a
    // store that commits txns in the order issued (KvBackend.ordersTxns).
    const pipeline = s.backend.ordersTxns && !session.readOnly
      ? { chain: new WriteChain(s.keys.chainKey(session.id), session.id), mayFollow: () => this.waiting !== undefined || this.decoder.bufferedBytes() > 0 }
      : undefined;
    this.ctx = {
      session, remoteAddress: normalizeAddress(this.socket.remoteAddress), watchTarget: this,
      auth: [{ scheme: 'ip', id: normalizeAddress(this.socket.remoteAddress) }, ...(this.deps.identities ?? [])], notificationTaps: [], pipeline,
    };
    this.stats.sessionId = session.id;
    this.stats.timeoutMs = session.timeoutMs;
    // As ZooKeeper counts a connection's handshake: one packet received, op SESS, cxid 0.
    this.stats.received++;
    this.stats.lastOp = 'SESS';
    this.stats.lastCxid = 0;
    this.stats.lastZxid = wireZxidNumber(s.tree.revision, s.tree.zxidBase);
    this.stats.lastResponse = elapsedMs();
    this.writeConnectResponse(req, session.timeoutMs, session.id, session.passwd, session.readOnly);
    clearTimeout(this.handshakeTimer);
    this.state = 'open';
    await this.deps.handler.sessionOpened?.(this.ctx, resumed);
  }

  /** The zxid clients see for revision `rev` (zxid-base.ts). */
  private wire(rev: number): bigint {
    return wireZxid(rev, this.deps.services.tree.zxidBase);
  }

  private writeConnectResponse(req: ConnectRequest, timeOut: number, sessionId: bigint, passwd: Buffer, readOnly = false): void {
    const w = new JuteWriter(64).startFrame();
    // Echo the readOnly byte only to clients that sent one (compat/ProtocolManager).
    writeConnectResponse(w, { protocolVersion: 0, timeOut, sessionId, passwd, readOnly: req.readOnly === undefined ? undefined : readOnly });
    this.send(w.endFrame().toBuffer());
  }

  /**
   * Whether a request of op code `type` may start now: always when nothing is in flight; else
   * only a pipelined write, behind pipelined writes that have all linked into the chain.
   */
  private mayStart(type: number): boolean {
    if (this.pending.length === 0) return true;
    if (!PIPELINED_OPS.has(type) || this.pending.length >= ZK_MAX_PIPELINED_WRITES) return false;
    return this.pending.every((p) => !p.barrier);
  }

  /**
   * Starts one request. A pipelined write that did not link into the chain at once (it waits
   * for the chain to drain, or its run awaited something first) becomes a barrier: nothing may
   * start behind it, since it would link, and commit, first.
   */
  private start(frame: Buffer, pipelined: boolean): void {
    const slot: Slot = { xid: 0, started: Date.now(), reply: undefined, barrier: true };
    this.pending.push(slot);
    this.stats.queued = this.pending.length;
    const chain = this.ctx?.pipeline?.chain;
    const linksBefore = chain?.linksMade ?? 0;
    const work = this.request(frame, slot);
    slot.barrier = !pipelined || chain === undefined || chain.linksMade === linksBefore;
    work.catch((e: unknown) => this.protocolError(e, 'request failed')).finally(() => this.pump());
  }

  private async request(frame: Buffer, slot: Slot): Promise<void> {
    const ctx = this.ctx!;
    const r = new JuteReader(frame, this.deps.maxFrame);
    const header = readRequestHeader(r);
    slot.xid = header.xid;
    this.deps.stats.packetReceived(4 + frame.length);
    this.stats.received++;
    this.keeperOf(ctx.session).touch(ctx.session);
    const reply = await this.answer(ctx, header.type, r);
    const latency = Date.now() - slot.started;
    this.deps.stats.recordLatency(latency, header.type);
    recordConnectionReply(this.stats, header.xid, header.type, wireZxidNumber(reply.zxid, this.deps.services.tree.zxidBase), latency);
    slot.reply = reply;
    this.writeReplies();
  }

  /** Writes the answered replies at the head of the queue, in request order. */
  private writeReplies(): void {
    while (this.pending.length > 0 && this.pending[0]!.reply) {
      const { xid, reply } = this.pending.shift()!;
      this.stats.queued = this.pending.length;
      // Changes a reply reflects are announced before it; later ones after it (see notify()).
      this.releaseHeld((zxid) => zxid <= reply!.zxid);
      this.writeReply({ xid, zxid: this.wire(reply!.zxid), err: reply!.err }, reply!);
      if (reply!.close) this.close('closed by request');
    }
    if (this.pending.length === 0) this.releaseHeld(() => true);
  }

  /** Decodes and runs one request; a handler error becomes its ZooKeeper code. Malformed frames throw. */
  private async answer(ctx: ZkContext, type: number, r: JuteReader): Promise<ZkReply> {
    const s = this.deps.services;
    try {
      const req = requestInRevisions(decodeRequest(type, r), s.tree.zxidBase);
      this.deps.stats.outstanding++;
      try {
        return await dispatch(this.deps.handler, ctx, req);
      } finally {
        this.deps.stats.outstanding--;
      }
    } catch (e) {
      if (e instanceof JuteDecodeError && e.reason === 'unknown-op') {
        // ZooKeeper: UnimplementedRequestProcessor replies ZUNIMPLEMENTED, then the connection closes.
        return { err: ZkErr.UNIMPLEMENTED, zxid: s.tree.revision, close: true };
      }
      if (e instanceof JuteDecodeError) throw e;
      this.log.error({ op: opName(type), err: e instanceof Error ? e.stack : String(e) }, 'op failed');
      return { err: toZkCode(e), zxid: s.tree.revision };
    }
  }

  /** Writes the held notifications that `now` selects, in the order they were raised. */
  private releaseHeld(now: (zxid: number) => boolean): void {
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (now(h.zxid)) this.writeNotification(h.event, h.zxid);
      else this.held.push(h);
    }
  }

  private writeReply(h: ReplyHeader, reply: ZkReply): void {
    const w = new JuteWriter(128).startFrame();
    writeReplyHeader(w, h);
    if ((reply.err === ZkErr.OK || reply.bodyOnError) && reply.body) encodeResponse(w, wireResponse(reply.body, this.deps.services.tree.zxidBase));
    this.send(w.endFrame().toBuffer());
  }

  /** WatchTarget: READ through `acl` with this connection's identities (3.8 filters events so). */
  mayRead(acl: readonly Acl[]): boolean {
    return aclAllows(acl, Perms.READ, this.ctx?.auth ?? []);
  }

  /**
   * WatchTarget: writes a notification (xid -1), at once when no request is in flight. While
   * one is, the notification waits for its reply and then goes before it if `zxid` (the change's
   * revision, -1 for SetWatches catch-up) is at most the reply's zxid, after it otherwise.
   * ZooKeeper queues a read's reply when it runs the read, so a change committed after the read
   * is announced after the reply; without the wait, a reply held up between running the read
   * and writing it (a decorator such as the cross-checker awaits the oracle there) would let
   * the event of the watch it set go first, and the client, which registers that watch only on
   * the reply, would drop the event and wait for it forever (Curator's DistributedQueue did).
   */
  notify(event: WatcherEvent, zxid: number): void {
    if (this.state !== 'open') return;
    if (this.pending.length > 0) this.held.push({ event, zxid });
    else this.writeNotification(event, zxid);
  }

  /**
   * Writes one notification frame. Its header zxid is -1 (ZooKeeper 3.8), or with
   * `notificationZxid` the change's zxid (3.9; -1 still for SetWatches catch-up).
   */
  private writeNotification(event: WatcherEvent, zxid: number): void {
    if (this.state !== 'open') return;
    const w = new JuteWriter(64).startFrame();
    const headerZxid = this.deps.services.semantics.notificationZxid ? zxid : NOTIFICATION_ZXID;
    writeReplyHeader(w, { xid: -1, zxid: this.wire(headerZxid), err: 0 });
    writeWatcherEvent(w, event);
    this.send(w.endFrame().toBuffer());
    for (const tap of this.ctx?.notificationTaps ?? []) tap(event, zxid);
  }

  private send(buf: Buffer): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.deps.stats.packetsSent++;
    this.deps.stats.recordResponse(buf.length);
    this.stats.sent++;
    this.stats.touched = elapsedMs();
    // Requests still in flight: their replies may join this one in one write (frame-sink.ts).
    this.sink.write(buf, this.pending.length > 0);
  }

  /** SessionOwner: closes the connection after what was already written. */
  closeConnection(reason: string): void {
    this.close(reason);
  }

  /** Ends the connection (pending output is flushed first). */
  close(reason: string): void {
    if (this.state !== 'closed') {
      this.log.debug({ reason }, 'closing connection');
      this.state = 'closed';
      this.socket.end();
    }
    this.destroySoon();
  }

  /**
   * Ends the socket for good a second after our side finished, whether or not the client
   * closes its side: a client that never does (a four-letter word sent with the socket left
   * open) must not hold the connection, nor the listener's shutdown, forever.
   */
  private destroySoon(): void {
    this.destroyTimer ??= setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private destroyTimer: NodeJS.Timeout | undefined;

  /** Cuts the TCP connection now, without flushing (a network failure, as the client sees it). */
  destroy(): void {
    this.state = 'closed';
    this.socket.destroy();
  }

  /** The table that keeps `session` alive: the store's, or the read-only one. */
  private keeperOf(session: Session): Pick<SessionTable, 'touch' | 'detach'> {
    const s = this.deps.services;
    return session.readOnly && s.readOnly ? s.readOnly.sessions : s.sessions;
  }

  private onSocketClosed(): void {
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    if (this.ctx) {
      this.keeperOf(this.ctx.session).detach(this.ctx.session, this);
      this.deps.handler.connectionClosed?.(this.ctx);
    }
    this.deps.onClose(this);
  }
}
