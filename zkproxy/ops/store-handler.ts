/**
 * `StoreHandler`: the {@link ZkHandler} backed by the store — every op code mapped onto the op
 * families of this folder. Writes go through the {@link WriteRunner} (one guarded store txn
 * each); reads are answered from the replica; ZkError becomes the reply's error code through
 * the one table in errors/zk-error.ts.
 */
import { ZkErr, ZkRequest, createModeInfo } from '../../protocol/jute';
import { ZkError, fail, toZkCode } from '../errors/zk-error';
import { RequestOf, ZkContext, ZkHandler, ZkReply } from '../dispatch/zk-handler';
import { resolveStat } from '../mapping/znode-view';
import { isSystemPath, parentOf } from '../mapping/path-rules';
import { Perms } from '../../protocol/jute';
import { checkAcl } from '../mapping/acl-rules';
import { MultiFailure, planMulti, resolveMulti } from './multi-op';
import * as reads from './read-ops';
import * as sess from './session-ops';
import { ZkServices } from './services';
import * as watch from './watch-ops';
import { QuotaCheck } from './quota-check';
import { WriteContext, planCheck, planCreate, planDelete, planSetAcl, planSetData } from './write-ops';
import { TxnPlan } from './txn-plan';
import { WriteOptions } from './write-runner';

/** Runs a synchronous op, turning a thrown ZkError into an error reply at the current zxid. */
function sync(s: ZkServices, fn: () => ZkReply): Promise<ZkReply> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    if (e instanceof ZkError) return Promise.resolve({ err: e.code, zxid: s.tree.revision });
    return Promise.reject(e);
  }
}

/** The store-backed handler. */
export class StoreHandler implements ZkHandler {
  private readonly quota: QuotaCheck | undefined;

  constructor(private readonly s: ZkServices) {
    this.quota = s.semantics.enforceQuota ? new QuotaCheck(s.tree) : undefined;
  }

  private wctx(ctx: ZkContext): WriteContext {
    return { sessionId: ctx.session.id, auth: ctx.auth, ttlEnabled: this.s.semantics.ttlEnabled, quota: this.quota };
  }

  /** Runs a planned write; a planned failure is an error reply carrying the zxid it spent. */
  private async write<T>(ctx: ZkContext, plan: (p: TxnPlan) => T, reply: (r: T, zxid: number) => ZkReply, opts: Omit<WriteOptions, 'pipeline'> = {}): Promise<ZkReply> {
    if (ctx.session.closing) return { err: ZkErr.SESSIONEXPIRED, zxid: this.s.tree.revision };
    try {
      const out = await this.s.runner.run(plan, { ...opts, pipeline: ctx.pipeline });
      if (out.error) return { err: out.error.code, zxid: out.zxid };
      return reply(out.result as T, out.zxid);
    } catch (e) {
      return { err: toZkCode(e), zxid: this.s.tree.revision };
    }
  }

  private createOp(ctx: ZkContext, req: RequestOf<'create' | 'create2' | 'createContainer' | 'createTTL'>): Promise<ZkReply> {
    // The create mode comes from the flags whatever the op code (ZooKeeper 3.8: createContainer
    // with flags 0 makes a persistent node, create with flags 4 a container).
    const r = req;
    const ttl = req.op === 'createTTL' ? req.ttl : undefined;
    const sequential = createModeInfo(r.flags)?.sequential ?? false;
    return this.write(ctx, (p) => planCreate(p, r, ttl, this.wctx(ctx)), (res, zxid) => ({
      err: ZkErr.OK, zxid,
      body: req.op === 'create' ? { op: 'create', path: res.path } : { op: 'create2', path: res.path, stat: resolveStat(res.stat, zxid) },
    }), { sequenceUnder: sequential ? parentOf(r.path.endsWith('/') ? r.path + 'x' : r.path) : undefined });
  }

  create(ctx: ZkContext, req: RequestOf<'create'>): Promise<ZkReply> { return this.createOp(ctx, req); }
  create2(ctx: ZkContext, req: RequestOf<'create2'>): Promise<ZkReply> { return this.createOp(ctx, req); }
  createContainer(ctx: ZkContext, req: RequestOf<'createContainer'>): Promise<ZkReply> { return this.createOp(ctx, req); }
  createTTL(ctx: ZkContext, req: RequestOf<'createTTL'>): Promise<ZkReply> { return this.createOp(ctx, req); }

  delete(ctx: ZkContext, req: RequestOf<'delete'>): Promise<ZkReply> {
    return this.write(ctx, (p) => planDelete(p, req.path, req.version, this.wctx(ctx)), (_r, zxid) => ({ err: ZkErr.OK, zxid }), { onRewrites: 'plan' });
  }

  setData(ctx: ZkContext, req: RequestOf<'setData'>): Promise<ZkReply> {
    return this.write(ctx, (p) => planSetData(p, req.path, req.data, req.version, this.wctx(ctx)),
      (stat, zxid) => ({ err: ZkErr.OK, zxid, body: { op: 'stat', stat: resolveStat(stat, zxid) } }), { onRewrites: 'rewrite' });
  }

  setACL(ctx: ZkContext, req: RequestOf<'setACL'>): Promise<ZkReply> {
    return this.write(ctx, (p) => planSetAcl(p, req.path, req.acl, req.version, this.wctx(ctx)),
      (stat, zxid) => ({ err: ZkErr.OK, zxid, body: { op: 'stat', stat: resolveStat(stat, zxid) } }));
  }

  check(ctx: ZkContext, req: RequestOf<'check'>): Promise<ZkReply> {
    return this.write(ctx, (p) => planCheck(p, req.path, req.version, this.wctx(ctx)),
      (stat, zxid) => ({ err: ZkErr.OK, zxid, body: { op: 'stat', stat: resolveStat(stat, zxid) } }));
  }

  async multi(ctx: ZkContext, req: RequestOf<'multi'>): Promise<ZkReply> {
    if (ctx.session.closing) return { err: ZkErr.SESSIONEXPIRED, zxid: this.s.tree.revision };
    try {
      const out = await this.s.runner.run((p) => planMulti(p, req.ops, this.wctx(ctx)));
      if (out.error instanceof MultiFailure) return { err: ZkErr.OK, zxid: out.zxid, body: { op: 'multi', results: out.error.results } };
      if (out.error) return { err: out.error.code, zxid: out.zxid };
      return { err: ZkErr.OK, zxid: out.zxid, body: { op: 'multi', results: resolveMulti(out.result!, out.zxid) } };
    } catch (e) {
      return { err: toZkCode(e), zxid: this.s.tree.revision };
    }
  }

  deleteContainer(ctx: ZkContext, req: RequestOf<'deleteContainer'>): Promise<ZkReply> {
    return this.write(ctx, (p) => {
      const node = p.get(req.path);
      if (!node || isSystemPath(req.path)) fail(ZkErr.NONODE, req.path);
      if (node.kind !== 'container' && node.kind !== 'ttl') fail(ZkErr.BADARGUMENTS, 'not a container');
      const parent = p.get(parentOf(req.path));
      if (parent) checkAcl(parent.acl, Perms.DELETE, ctx.auth);
      planDelete(p, req.path, -1, this.wctx(ctx));
    }, (_r, zxid) => ({ err: ZkErr.OK, zxid }));
  }

  exists(ctx: ZkContext, req: RequestOf<'exists'>): Promise<ZkReply> { return sync(this.s, () => reads.exists(this.s, ctx, req)); }
  getData(ctx: ZkContext, req: RequestOf<'getData'>): Promise<ZkReply> { return sync(this.s, () => reads.getData(this.s, ctx, req)); }
  getChildren(ctx: ZkContext, req: RequestOf<'getChildren'>): Promise<ZkReply> { return sync(this.s, () => reads.getChildren(this.s, ctx, req, false)); }
  getChildren2(ctx: ZkContext, req: RequestOf<'getChildren2'>): Promise<ZkReply> { return sync(this.s, () => reads.getChildren(this.s, ctx, req, true)); }
  getACL(ctx: ZkContext, req: RequestOf<'getACL'>): Promise<ZkReply> { return sync(this.s, () => reads.getAcl(this.s, ctx, req)); }
  getAllChildrenNumber(ctx: ZkContext, req: RequestOf<'getAllChildrenNumber'>): Promise<ZkReply> { return sync(this.s, () => reads.getAllChildrenNumber(this.s, ctx, req)); }
  getEphemerals(ctx: ZkContext, req: RequestOf<'getEphemerals'>): Promise<ZkReply> { return sync(this.s, () => reads.getEphemerals(this.s, ctx, req)); }
  multiRead(ctx: ZkContext, req: RequestOf<'multiRead'>): Promise<ZkReply> { return sync(this.s, () => reads.multiRead(this.s, ctx, req.ops as ZkRequest[])); }
  sync(_ctx: ZkContext, req: RequestOf<'sync'>): Promise<ZkReply> { return reads.sync(this.s, req); }

  setWatches(ctx: ZkContext, req: RequestOf<'setWatches'>): Promise<ZkReply> { return sync(this.s, () => watch.setWatches(this.s, ctx, req)); }
  setWatches2(ctx: ZkContext, req: RequestOf<'setWatches2'>): Promise<ZkReply> { return sync(this.s, () => watch.setWatches(this.s, ctx, req)); }
  addWatch(ctx: ZkContext, req: RequestOf<'addWatch'>): Promise<ZkReply> { return sync(this.s, () => watch.addWatch(this.s, ctx, req)); }
  checkWatches(ctx: ZkContext, req: RequestOf<'checkWatches'>): Promise<ZkReply> { return sync(this.s, () => watch.checkOrRemoveWatches(this.s, ctx, req)); }
  removeWatches(ctx: ZkContext, req: RequestOf<'removeWatches'>): Promise<ZkReply> { return sync(this.s, () => watch.checkOrRemoveWatches(this.s, ctx, req)); }

  ping(): Promise<ZkReply> { return sync(this.s, () => sess.ping(this.s)); }
  auth(ctx: ZkContext, req: RequestOf<'auth'>): Promise<ZkReply> { return sync(this.s, () => sess.auth(this.s, ctx, req)); }
  whoAmI(ctx: ZkContext): Promise<ZkReply> { return sync(this.s, () => sess.whoAmI(this.s, ctx)); }
  sasl(ctx: ZkContext, req: RequestOf<'sasl'>): Promise<ZkReply> { return sync(this.s, () => sess.sasl(this.s, ctx, req)); }
  /** reconfig: dynamic reconfiguration is disabled; ZooKeeper records that as an error txn (a zxid). */
  reconfig(ctx: ZkContext): Promise<ZkReply> {
    return this.write(ctx, () => fail(ZkErr.RECONFIGDISABLED), () => ({ err: ZkErr.OK, zxid: this.s.tree.revision }));
  }

  async closeSession(ctx: ZkContext): Promise<ZkReply> {
    try {
      return await sess.closeSession(this.s, ctx);
    } catch (e) {
      return { err: toZkCode(e), zxid: this.s.tree.revision, close: true };
    }
  }

  connectionClosed(ctx: ZkContext): void {
    this.s.watches.removeTarget(ctx.watchTarget);
  }
}
