/**
 * Logging decorator: one debug record per request (op, xid-free summary, error code, latency)
 * and a warning for server-side failures (SYSTEMERROR, CONNECTIONLOSS). Wraps any ZkHandler.
 */
import { ZkErr, errName } from '../../protocol/jute';
import { ZkLogger } from '../logger';
import { ZkHandler, decorate } from './zk-handler';

/** Wraps `inner` so every op is logged on `logger` (at debug; failures of ours at warn). */
export function withLogging(inner: ZkHandler, logger: ZkLogger): ZkHandler {
  const log = logger.child({ component: 'zk-ops' });
  return decorate(inner, async (op, ctx, req, next) => {
    const started = performance.now();
    const reply = await next();
    const failed = reply.err === ZkErr.SYSTEMERROR || reply.err === ZkErr.CONNECTIONLOSS;
    // Every request passes here: build the record only when it will be written.
    if (!failed && !(log.isLevelEnabled?.('debug') ?? false)) return reply;
    const fields = {
      op, session: ctx.session.id.toString(16), path: 'path' in req ? req.path : undefined,
      err: errName(reply.err), zxid: reply.zxid, ms: performance.now() - started,
    };
    if (failed) log.warn(fields, 'zk op failed');
    else log.debug(fields, 'zk op');
    return reply;
  });
}
