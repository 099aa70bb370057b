/**
 * Decorator for read-only sessions (read-only-mode.ts), ZooKeeper's ReadOnlyRequestProcessor:
 * on a read-only session every state-changing request — create (all four), delete,
 * deleteContainer, setData, setACL, check, multi, reconfig — and sync is answered NOTREADONLY
 * with the zxid of the state served, header only, and nothing else happens; reads, watches,
 * auth and pings pass. closeSession ends the session here: it has nothing in the store.
 */
import { ZkErr, ZkRequestOp } from '../../protocol/jute';
import { Session } from '../session/session-table';
import { ZkHandler, decorate } from './zk-handler';

/** The ops a read-only server refuses (ReadOnlyRequestProcessor's list). */
export const READ_ONLY_REFUSED: ReadonlySet<ZkRequestOp> = new Set<ZkRequestOp>([
  'sync', 'create', 'create2', 'createTTL', 'createContainer', 'delete', 'deleteContainer',
  'setData', 'reconfig', 'setACL', 'multi', 'check',
]);

/** What the decorator needs of the proxy. */
export interface ReadOnlyDeps {
  /** The zxid of the state served (the replica's revision). */
  zxid(): number;
  /** Forgets a read-only session (closeSession). */
  close(s: Session): void;
}

/** Wraps `inner` so read-only sessions cannot change anything. */
export function withReadOnly(inner: ZkHandler, deps: ReadOnlyDeps): ZkHandler {
  return decorate(inner, (op, ctx, _req, next) => {
    if (!ctx.session.readOnly) return next();
    if (READ_ONLY_REFUSED.has(op)) return Promise.resolve({ err: ZkErr.NOTREADONLY, zxid: deps.zxid() });
    if (op !== 'closeSession') return next();
    deps.close(ctx.session);
    return Promise.resolve({ err: ZkErr.OK, zxid: deps.zxid(), close: true });
  });
}
