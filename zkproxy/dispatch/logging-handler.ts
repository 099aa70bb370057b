/**
 * Logging decorator: one debug record per request (op, xid-free summary, error code, latency)
 * whose category the trace mask selects (trace-mask.ts: pings are left out by default), and a
 * warning for every server-side failure (SYSTEMERROR, CONNECTIONLOSS). Wraps any ZkHandler.
 */
import { ZkErr, errName } from '../../protocol/jute';
import { ZkLogger } from '../logger';
import { TRACE_CLIENT_PING, TRACE_CLIENT_REQUEST, TraceMask } from '../trace-mask';
import { ZkHandler, decorate } from './zk-handler';

/**
 * Wraps `inner` so ops are logged on `logger`: at debug when `mask` selects the op's category,
 * failures of ours always at warn. `mask` is read per request, so `stmk` takes effect at once.
 */
export function withLogging(inner: ZkHandler, logger: ZkLogger, mask: TraceMask = new TraceMask()): ZkHandler {
  const log = logger.child({ component: 'zk-ops' });
  return decorate(inner, async (op, ctx, req, next) => {
    const started = performance.now();
    const reply = await next();
    const failed = reply.err === ZkErr.SYSTEMERROR || reply.err === ZkErr.CONNECTIONLOSS;
    // Every request passes here: build the record only when it will be written.
    if (!failed && !((log.isLevelEnabled?.('debug') ?? false) && mask.has(op === 'ping' ? TRACE_CLIENT_PING : TRACE_CLIENT_REQUEST))) return reply;
    const fields = {
      op, session: ctx.session.id.toString(16), path: 'path' in req ? req.path : undefined,
      err: errName(reply.err), zxid: reply.zxid, ms: performance.now() - started,
    };
    if (failed) log.warn(fields, 'zk op failed');
    else log.debug(fields, 'zk op');
    return reply;
  });
}
