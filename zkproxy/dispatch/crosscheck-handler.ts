/**
 * The cross-checker decorator (DESIGN §4; after zetcd's xchk, zk-protocol.md §3.11): every
 * request a client sends to Coracle is also sent, on a mirrored session, to an oracle — a real
 * Apache ZooKeeper — and the two replies are compared field by field (reply-compare.ts). The
 * client always gets Coracle's reply. Notifications of both sides are recorded per session and
 * compared by {@link CrossChecker.finish}. Requests should be serialized across sessions while
 * cross-checking (zxid comparison assumes one global order).
 */
import { WatcherEvent, ZkRequest, ZkRequestOp, errName } from '../../protocol/jute';
import { ZkLogger, silentLogger } from '../logger';
import { CandidateEvent, Mismatch, ReplyComparer } from './reply-compare';
import { ZkContext, ZkHandler, ZkReply, decorate } from './zk-handler';
import { ZkWireClient } from './zk-wire-client';

/** Where the oracle is and what to do with differences. */
export interface CrossCheckOptions {
  oracleHost: string;
  oraclePort: number;
  logger?: ZkLogger;
  onMismatch?: (m: Mismatch) => void;
}

interface Mirror {
  oracle: ZkWireClient;
  oracleEvents: WatcherEvent[];
  candidateEvents: CandidateEvent[];
}

/** Ops whose replies are not compared (connection plumbing). */
const SKIP: ReadonlySet<ZkRequestOp> = new Set(['ping', 'sasl']);

/** The cross-checker: a handler decorator plus the collected mismatches. */
export class CrossChecker {
  readonly mismatches: Mismatch[] = [];
  readonly compared = { replies: 0, events: 0 };
  private readonly cmp = new ReplyComparer();
  private readonly mirrors = new Map<bigint, Mirror>();
  /** The oracle connection mirroring each of our connections. */
  private readonly oracleOf = new WeakMap<ZkContext, ZkWireClient>();
  /** Oracle connections being retired (see {@link retire}). */
  private readonly retiring = new Map<ZkWireClient, Promise<void>>();
  /** Sessions whose oracle mirror is being opened. */
  private readonly opening = new Map<bigint, Promise<void>>();
  private readonly log: ZkLogger;

  constructor(private readonly opts: CrossCheckOptions) {
    this.log = (opts.logger ?? silentLogger).child({ component: 'crosscheck' });
  }

  /** Wraps `inner`. */
  wrap(inner: ZkHandler): ZkHandler {
    const h = decorate(inner, (op, ctx, req, next) => this.around(op, ctx, req, next));
    h.sessionOpened = (ctx, resumed) => {
      // Registered before the first await: a request that arrives while the oracle's session
      // is still being created waits for it (around), instead of going unmirrored or letting
      // another session's request reach the oracle before its createSession.
      const id = ctx.session.id;
      const opened = (async () => {
        await inner.sessionOpened?.(ctx, resumed);
        await this.openMirror(ctx);
      })();
      this.opening.set(id, opened);
      return opened.finally(() => {
        if (this.opening.get(id) === opened) this.opening.delete(id);
      });
    };
    h.connectionClosed = (ctx) => {
      inner.connectionClosed?.(ctx);
      // The client went away without closing: let the oracle's session time out too. Only the
      // oracle connection of this one (a resumed session may already have a newer one).
      const oracle = this.oracleOf.get(ctx);
      if (oracle) void this.retire(oracle);
    };
    return h;
  }

  private report(m: Mismatch): void {
    this.mismatches.push(m);
    this.log.warn({ mismatch: m }, 'cross-check mismatch');
    this.opts.onMismatch?.(m);
  }

  private async openMirror(ctx: ZkContext): Promise<void> {
    const id = ctx.session.id;
    const existing = this.mirrors.get(id);
    if (existing) {
      await this.retire(existing.oracle);
      const s = existing.oracle.session;
      existing.oracle = await this.connect(existing, s.sessionId, s.passwd, ctx.session.timeoutMs);
    } else {
      const m: Mirror = { oracle: undefined as unknown as ZkWireClient, oracleEvents: [], candidateEvents: [] };
      m.oracle = await this.connect(m, 0n, Buffer.alloc(16), ctx.session.timeoutMs);
      this.mirrors.set(id, m);
      this.cmp.sessions.set(m.oracle.session.sessionId, id);
    }
    const m = this.mirrors.get(id)!;
    this.oracleOf.set(ctx, m.oracle);
    ctx.notificationTaps.push((event, zxid) => m.candidateEvents.push({ event, zxid }));
  }

  /**
   * Drops an oracle connection once the notifications the oracle already queued on it have
   * arrived: the reply to a ping sent now comes after them (the oracle fires a watch before it
   * answers the write that fired it, but delivers it on this other connection asynchronously;
   * dropped at once, an event of the last write before a resume would be lost to the
   * comparison while Coracle's was recorded). Bounded: a dead connection is dropped after 2 s.
   */
  private retire(oracle: ZkWireClient): Promise<void> {
    let done = this.retiring.get(oracle);
    if (!done) {
      const fence = oracle.send({ op: 'ping' }).then(() => undefined, () => undefined);
      done = Promise.race([fence, new Promise<void>((r) => setTimeout(r, 2000).unref())]).then(() => oracle.drop());
      this.retiring.set(oracle, done);
      void done.then(() => this.retiring.delete(oracle));
    }
    return done;
  }

  private connect(m: Mirror, sessionId: bigint, passwd: Buffer, timeoutMs: number): Promise<ZkWireClient> {
    return ZkWireClient.connect({
      host: this.opts.oracleHost, port: this.opts.oraclePort, timeoutMs, sessionId, passwd,
      onNotification: (e) => m.oracleEvents.push(e),
    });
  }

  private async around(op: ZkRequestOp, ctx: ZkContext, req: ZkRequest, next: () => Promise<ZkReply>): Promise<ZkReply> {
    // Every request waits for the oracle mirrors being opened, not only its own session's: a
    // session opened on our side before this request must exist on the oracle before it too,
    // or the oracle's createSession takes a zxid after this request's.
    if (this.opening.size > 0) await Promise.all([...this.opening.values()].map((p) => p.catch(() => undefined)));
    const m = this.mirrors.get(ctx.session.id);
    if (!m || SKIP.has(op)) return next();
    const [cand, orc] = await Promise.all([
      next(),
      m.oracle.send(this.forOracle(req)).catch((e: unknown) => ({ error: String(e) })),
    ]);
    if ('error' in orc) {
      this.report({ op, field: 'oracle', oracle: orc.error, candidate: errName(cand.err) });
      return cand;
    }
    this.compared.replies++;
    const out: Mismatch[] = [];
    if (orc.header.err !== cand.err) out.push({ op, field: 'err', oracle: errName(orc.header.err), candidate: errName(cand.err) });
    const zx = this.cmp.zxid(orc.header.zxid, BigInt(cand.zxid));
    if (zx && op !== 'auth') out.push({ op, field: `zxid (${zx})`, oracle: orc.header.zxid, candidate: cand.zxid });
    if (orc.header.err === 0 || op === 'multi') this.cmp.body(op, orc.body, cand.err === 0 ? cand.body : undefined, out);
    if (op === 'closeSession' && cand.err === 0) this.cmp.sessionKills.add(cand.zxid);
    for (const x of out) this.report(x);
    return cand;
  }

  /** `req` in the oracle's terms: a SetWatches' relativeZxid is one of our zxids. */
  private forOracle(req: ZkRequest): ZkRequest {
    if (req.op !== 'setWatches' && req.op !== 'setWatches2') return req;
    return { ...req, relativeZxid: this.cmp.toOracle(req.relativeZxid) };
  }

  /** Compares the notifications of every session (after letting in-flight ones arrive). */
  async finish(settleMs = 500): Promise<Mismatch[]> {
    await new Promise((r) => setTimeout(r, settleMs));
    await Promise.all(this.retiring.values());
    for (const [id, m] of this.mirrors) {
      const out: Mismatch[] = [];
      this.cmp.events(m.oracleEvents, m.candidateEvents, out);
      this.compared.events += m.candidateEvents.length;
      for (const x of out) this.report({ ...x, op: `notification session 0x${id.toString(16)}` });
    }
    return this.mismatches;
  }

  /** Closes every oracle connection (ending their sessions). */
  async close(): Promise<void> {
    await Promise.all([...this.mirrors.values()].map((m) => m.oracle.close()));
    this.mirrors.clear();
  }
}
