/**
 * `ZkHandler`: one method per ZooKeeper op code (DESIGN §4; the seam zetcd's `ZK` interface
 * showed). The store-backed implementation lives in ops/; decorators (logging, metrics,
 * cross-checking) wrap any handler and are stacked by the dispatcher's owner.
 */
import { WatcherEvent, ZkRequest, ZkRequestOp, ZkResponse } from '../../protocol/jute';
import { AuthId } from '../mapping/acl-rules';
import type { WriteChain } from '../ops/write-chain';
import { Session } from '../session/session-table';
import { WatchTarget } from '../watch/watch-manager';

/** Per-connection state every op sees. */
export interface ZkContext {
  /** The session carried by the connection. */
  readonly session: Session;
  /** The connection's identities: `ip:<addr>` always, then those added by auth packets. */
  readonly auth: AuthId[];
  /** Where this connection's notifications go. */
  readonly watchTarget: WatchTarget;
  /** The client's address as the socket reports it. */
  readonly remoteAddress: string;
  /**
   * Observers of notifications written to this connection, with the revision of the change
   * that fired each (the cross-checker taps here).
   */
  readonly notificationTaps: ((event: WatcherEvent, zxid: number) => void)[];
  /** The connection's write chain, for single-node writes it pipelines (ops/write-chain.ts). */
  readonly pipeline?: { chain: WriteChain; mayFollow(): boolean };
}

/** A reply: header error code and zxid, the body for err 0, and whether to close afterwards. */
export interface ZkReply {
  err: number;
  zxid: number;
  body?: ZkResponse;
  /** Close the connection once this reply is written (closeSession, auth failure, …). */
  close?: boolean;
  /** Write `body` even though `err` is not OK (a failed sasl step carries a null token). */
  bodyOnError?: boolean;
}

/** The request type of op `K`. */
export type RequestOf<K extends ZkRequestOp> = ZkRequest extends infer R
  ? R extends { op: infer O } ? (K extends O ? Omit<R, 'op'> & { op: K } : never) : never
  : never;

/** One method per op code, each answering with a {@link ZkReply}. */
export type ZkOpHandlers = {
  [K in ZkRequestOp]: (ctx: ZkContext, req: RequestOf<K>) => Promise<ZkReply>;
};

/** A handler: the op methods plus optional session lifecycle hooks. */
export interface ZkHandler extends ZkOpHandlers {
  /** A session was created or resumed on a connection. */
  sessionOpened?(ctx: ZkContext, resumed: boolean): Promise<void>;
  /** The connection carrying a session went away (the session may live on). */
  connectionClosed?(ctx: ZkContext): void;
}

/** Every op name, in op-code order (for decorators that wrap all methods). */
export const ALL_OPS: readonly ZkRequestOp[] = [
  'create', 'delete', 'exists', 'getData', 'setData', 'getACL', 'setACL', 'getChildren', 'sync', 'ping',
  'getChildren2', 'check', 'multi', 'create2', 'reconfig', 'checkWatches', 'removeWatches', 'createContainer',
  'deleteContainer', 'createTTL', 'multiRead', 'auth', 'setWatches', 'sasl', 'getEphemerals',
  'getAllChildrenNumber', 'setWatches2', 'addWatch', 'whoAmI', 'closeSession',
];

/** Calls the method of `h` for `req` (the one place the op name selects the method). */
export function dispatch(h: ZkHandler, ctx: ZkContext, req: ZkRequest): Promise<ZkReply> {
  const fn = h[req.op] as (ctx: ZkContext, req: ZkRequest) => Promise<ZkReply>;
  return fn.call(h, ctx, req);
}

/**
 * Builds a decorator: every op method of `inner` wrapped by `wrap`, lifecycle hooks passed
 * through.
 */
export function decorate(
  inner: ZkHandler,
  wrap: (op: ZkRequestOp, ctx: ZkContext, req: ZkRequest, next: () => Promise<ZkReply>) => Promise<ZkReply>,
): ZkHandler {
  const out: Partial<Record<ZkRequestOp, unknown>> = {};
  for (const op of ALL_OPS) {
    out[op] = (ctx: ZkContext, req: ZkRequest) => wrap(op, ctx, req, () => dispatch(inner, ctx, req));
  }
  const h = out as unknown as ZkHandler;
  if (inner.sessionOpened) h.sessionOpened = (ctx, resumed) => inner.sessionOpened!(ctx, resumed);
  if (inner.connectionClosed) h.connectionClosed = (ctx) => inner.connectionClosed!(ctx);
  return h;
}
